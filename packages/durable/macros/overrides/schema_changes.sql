{#
    dbt's `process_schema_changes`, stricter: an incremental model whose columns no longer match
    its table stops with one line that says which columns and how to roll the change out,
    whatever its `on_schema_change` asks, except `ignore`. dbt's `append_new_columns` would add
    the column and publish it null on every earlier row with every test green; the runner's full
    refresh (`durable run --full-refresh --select <model>`) fills it for the whole history.

    The strategy's own bookkeeping column (`_invocation_id`, durable_merge) is not a change.
#}
{% macro default__process_schema_changes(on_schema_change, source_relation, target_relation) %}
    {%- if on_schema_change == 'ignore' -%}
        {{ return({}) }}
    {%- endif -%}
    {%- set tracker = durable.change_tracker_column() -%}
    {%- set source_columns = adapter.get_columns_in_relation(source_relation) -%}
    {%- set target_columns = adapter.get_columns_in_relation(target_relation)
        | rejectattr('name', 'equalto', tracker) | list -%}
    {%- set added = diff_columns(source_columns, target_columns) | map(attribute='name') | list -%}
    {%- set removed = diff_columns(target_columns, source_columns) | map(attribute='name') | list -%}
    {%- set retyped = diff_column_data_types(source_columns, target_columns)
        | map(attribute='column_name') | list -%}
    {%- if added or removed or retyped -%}
        {%- set changes = [] -%}
        {%- if added -%}{%- do changes.append('new: ' ~ added | join(', ')) -%}{%- endif -%}
        {%- if removed -%}{%- do changes.append('removed: ' ~ removed | join(', ')) -%}{%- endif -%}
        {%- if retyped -%}{%- do changes.append('retyped: ' ~ retyped | join(', ')) -%}{%- endif -%}
        {{ exceptions.raise_compiler_error(
            model.name ~ ": the model's columns changed (" ~ changes | join('; ') ~ ") but its"
            ~ " table " ~ target_relation ~ " has the old ones; an incremental run would leave"
            ~ " earlier rows without them. Roll the change out with a full refresh of the model:"
            ~ " durable run --full-refresh --select " ~ model.name
        ) }}
    {%- endif -%}
    {{ return(source_columns) }}
{% endmacro %}
