{#
    A base model generated from its source table's YAML: every delivered row, typed, with the
    reason it cannot be used (`invalid_reason`, null when it can). The model is one line,

        {{ durable.base_model(source('shop', 'orders')) }}

    and the table's YAML says everything else:

    - every column, under its delivered name: a column with `meta.type` is cast to it
      (`durable.try_cast_as`), and a value that does not parse (empty included) is
      `malformed <type>: <column>`; any other column is text, trimmed, empty as null. A typed
      column keeps its delivered text too, as `<column>_delivered`;
    - `meta.primary_key`: a key column empty is `missing key: <column>`; the same key and event
      time twice in one file with other values is a conflicting duplicate (row_checks.sql);
    - the event time (`meta.event_time`, else the source's `meta.durable.event_time`, else
      `updated_at`) and every other timestamp column must be possible times
      (`durable.is_impossible_time`);
    - a column's `meta.required: true` (`missing value: <column>`), `meta.min` and `meta.max`
      (`impossible value: ...`), and `meta.accepted_values: {ref: <seed or model>, column: ...}`
      (`unknown <column>`; the model declares the dependency: `-- depends_on: {{ ref(...) }}`);
    - the table's `meta.row_checks`: rules across columns, each `{rule: <SQL true of a good
      row, on the typed columns>, reason: <the reason when it is not>}`, e.g.
      `{rule: "ended_at >= started_at", reason: "impossible value: ended before it started"}`.

    The first check that fails is the reason: missing key, missing value, malformed, unknown,
    out of range, row checks, impossible time, conflicting duplicate. Renames belong to the staging
    model that reads the base model. A daily run reads only the files loaded since the last
    one (`durable.loaded_after_target()`; the folder config makes base models incremental).
    At parse time (`execute` false) the graph is empty: the query is a placeholder, and the
    `source()` call in the model is what gives dbt the dependency.
#}
{% macro base_model(source_relation) %}
    {#- A file re-sent with fewer rows, or none, loses the rows it no longer holds: the
        model's delete+insert on `_source_file` would only see the files that have rows. -#}
    {%- do config(pre_hook="{{ durable.drop_replaced_files() }}") -%}
    {%- if not execute -%}
        {{ return('select * from ' ~ source_relation) }}
    {%- endif -%}
    {%- set table = durable.source_table(source_relation) -%}
    {%- set meta = durable.merged_meta(table) -%}
    {%- set key_columns = meta.get('primary_key', []) -%}
    {%- set event_time = durable.declared_event_time(table) -%}
    {%- if not key_columns -%}
        {{ exceptions.raise_compiler_error(
            "base_model: source table " ~ table.source_name ~ "." ~ table.name
            ~ " has no meta.primary_key"
        ) }}
    {%- endif -%}

    {%- set typed = [] -%}
    {%- set delivered = [] -%}
    {%- set missing = [] -%}
    {%- set malformed = [] -%}
    {%- set unknown = [] -%}
    {%- set out_of_range = [] -%}
    {%- set impossible = [] -%}
    {%- set value_columns = [] -%}
    {%- for key in key_columns -%}
        {%- do missing.append((key ~ ' is null', 'missing key: ' ~ key)) -%}
    {%- endfor -%}
    {%- for column in table.columns.values() -%}
        {%- set name = column.name -%}
        {%- set column_meta = durable.merged_meta(column) -%}
        {%- set data_type = column_meta.get('type') -%}
        {%- if data_type -%}
            {%- set type_name = (data_type | string).split('(')[0] | trim | lower -%}
            {%- do typed.append(
                durable.try_cast_as('source.' ~ name, data_type) | trim ~ ' as ' ~ name
            ) -%}
            {%- do delivered.append('source.' ~ name ~ ' as ' ~ name ~ '_delivered') -%}
            {%- do malformed.append(
                (name ~ ' is null', 'malformed ' ~ type_name ~ ': ' ~ name)
            ) -%}
            {%- if type_name in ('timestamp', 'date') or name == event_time -%}
                {%- do impossible.append((
                    durable.is_impossible_time(name) | trim,
                    'impossible value: ' ~ name ~ ' before earliest_event_date or in the future',
                )) -%}
            {%- endif -%}
        {%- else -%}
            {%- do typed.append("nullif(trim(source." ~ name ~ "), '') as " ~ name) -%}
        {%- endif -%}
        {%- if column_meta.get('required') and name not in key_columns -%}
            {%- do missing.append((name ~ ' is null', 'missing value: ' ~ name)) -%}
        {%- endif -%}
        {%- set accepted = column_meta.get('accepted_values') -%}
        {%- if accepted -%}
            {%- do unknown.append((
                name ~ ' is null or ' ~ name ~ ' not in (select accepted.'
                ~ accepted['column'] ~ ' from ' ~ ref(accepted['ref']) ~ ' as accepted)',
                'unknown ' ~ name,
            )) -%}
        {%- endif -%}
        {%- set low, high = column_meta.get('min'), column_meta.get('max') -%}
        {%- if low is not none and high is not none -%}
            {%- do out_of_range.append((
                name ~ ' < ' ~ low ~ ' or ' ~ name ~ ' > ' ~ high,
                'impossible value: ' ~ name ~ ' outside ' ~ low ~ '..' ~ high,
            )) -%}
        {%- elif low is not none -%}
            {%- do out_of_range.append(
                (name ~ ' < ' ~ low, 'impossible value: ' ~ name ~ ' below ' ~ low)
            ) -%}
        {%- elif high is not none -%}
            {%- do out_of_range.append(
                (name ~ ' > ' ~ high, 'impossible value: ' ~ name ~ ' above ' ~ high)
            ) -%}
        {%- endif -%}
        {%- if name not in key_columns and name != event_time -%}
            {%- do value_columns.append(name) -%}
        {%- endif -%}
    {%- endfor -%}
    {#- A source that sends deletes (`meta.durable.delete_marker`): the marker column, when
        a file has it, says `true` for a delete of the row's key as of its event time; a delete
        row needs its key and event time only. -#}
    {%- set marker = (meta.get('durable') or {}).get('delete_marker') -%}
    {%- set for_deletes_too = [] -%}
    {%- for key in key_columns -%}{%- do for_deletes_too.append('missing key: ' ~ key) -%}{%- endfor -%}
    {%- for condition, reason in malformed + impossible if reason.endswith(': ' ~ event_time)
        or reason.startswith('impossible value: ' ~ event_time ~ ' ') -%}
        {%- do for_deletes_too.append(reason) -%}
    {%- endfor -%}
    {%- if marker -%}
        {%- set marker_text = "lower(nullif(trim(source." ~ marker ~ "), ''))" -%}
        {%- set typed = typed | reject('equalto', "nullif(trim(source." ~ marker ~ "), '') as " ~ marker) | list -%}
        {%- do typed.append("nullif(trim(source." ~ marker ~ "), '') as " ~ marker) -%}
        {%- do typed.append('coalesce(' ~ marker_text ~ " = 'true', false) as " ~ durable.deleted_marker_column()) -%}
        {%- do malformed.append((
            'lower(' ~ marker ~ ") not in ('true', 'false')", 'malformed boolean: ' ~ marker
        )) -%}
        {%- do for_deletes_too.append('malformed boolean: ' ~ marker) -%}
        {%- set value_columns = value_columns | reject('equalto', marker) | list
            + [durable.deleted_marker_column()] -%}
    {%- endif -%}
    {%- set row_checks = [] -%}
    {%- for check in meta.get('row_checks', []) -%}
        {%- do row_checks.append(('not (' ~ check['rule'] ~ ')', check['reason'])) -%}
    {%- endfor -%}
    {%- set checks = [] -%}
    {%- for condition, reason in missing + malformed + unknown + out_of_range + row_checks
        + impossible -%}
        {%- if marker and reason not in for_deletes_too -%}
            {%- do checks.append(
                ('not ' ~ durable.deleted_marker_column() ~ ' and (' ~ condition ~ ')', reason)
            ) -%}
        {%- else -%}
            {%- do checks.append((condition, reason)) -%}
        {%- endif -%}
    {%- endfor %}

with source as {{ durable.inline_cte() }} (
    select * from {{ source_relation }}
    {%- if is_incremental() %}
    where {{ durable.loaded_after_target() }}
    {%- endif %}
),

typed as {{ durable.inline_cte() }} (
    select
        {%- for expression in typed %}
        {{ expression }},
        {%- endfor %}
        source._source_file,
        source._delivery_date,
        source._row_number,
        source._loaded_at
        {%- for expression in delivered %},
        {{ expression }}
        {%- endfor %}
    from source
),

conflicting_duplicates as (
    {{ durable.conflicting_duplicates('typed', key_columns, value_columns, event_time) }}
),

checked as (
    select
        *,
        case
            {%- for condition, reason in checks %}
            when {{ condition }}
                then '{{ reason }}'
            {%- endfor %}
            when {{ durable.is_conflicting_duplicate(key_columns, event_time) }}
                then 'conflicting duplicate: same {{ key_columns | join(", ") }} and {{ event_time }}, different values'
        end as invalid_reason
    from typed
)

select * from checked
{%- endmacro %}


{% macro source_table(relation) %}
    {#- The graph node of the source table `relation` was made from (by `source()`). -#}
    {%- for node in graph.sources.values() -%}
        {%- if node.identifier | lower == relation.identifier | lower
            and node.schema | lower == relation.schema | lower -%}
            {{ return(node) }}
        {%- endif -%}
    {%- endfor -%}
    {{ exceptions.raise_compiler_error(
        "durable: " ~ relation ~ " is not a source table of the project; pass source('...', '...')"
    ) }}
{% endmacro %}


{% macro merged_meta(node) %}
    {#- A node's `meta`, or `config.meta` where dbt 1.10 moved it; both when both are given. -#}
    {%- set merged = {} -%}
    {%- do merged.update(node.get('meta') or {}) -%}
    {%- do merged.update((node.get('config') or {}).get('meta') or {}) -%}
    {{ return(merged) }}
{% endmacro %}


{% macro event_time_of(relation=none) %}
    {#- The event time column `relation` declares (see declared_event_time): a source table or
        a model, found in the graph by schema and identifier; with none (or a CTE's name), the
        model being built. `updated_at` when none is declared, for any other relation, while
        dbt parses and in a unit test (dbt gives neither a graph to read). -#}
    {%- if not execute or 'sources' not in graph or model is not defined or model is none -%}
        {{ return('updated_at') }}
    {%- endif -%}
    {%- if relation is none or relation is string -%}
        {{ return(durable.declared_event_time(model)) }}
    {%- endif -%}
    {%- for node in graph.sources.values() -%}
        {%- if node.identifier | lower == relation.identifier | lower
            and node.schema | lower == relation.schema | lower -%}
            {{ return(durable.declared_event_time(node)) }}
        {%- endif -%}
    {%- endfor -%}
    {%- for node in graph.nodes.values() if node.resource_type in ('model', 'snapshot') -%}
        {%- if node.alias | lower == relation.identifier | lower
            and node.schema | lower == relation.schema | lower -%}
            {{ return(durable.declared_event_time(node)) }}
        {%- endif -%}
    {%- endfor -%}
    {{ return('updated_at') }}
{% endmacro %}


{% macro declared_event_time(node) %}
    {#- A source table: its `meta.event_time`, else its source's `meta.durable.event_time`. A
        model or snapshot: its `event_time` config (dbt's own), else the one every landed
        source upstream of it declares, reached through models that declare none (base and
        staging models keep their source's column names); `updated_at` when they disagree or
        none is declared. -#}
    {%- if node.resource_type == 'source' -%}
        {{ return(durable.merged_meta(node).get('event_time')
            or node.source_meta.get('durable', {}).get('event_time') or 'updated_at') }}
    {%- endif -%}
    {%- if node.config.get('event_time') -%}
        {{ return(node.config.event_time) }}
    {%- endif -%}
    {%- set declared = [] -%}
    {#- Breadth first: a list a for loop reads while it grows, as Jinja has no while loop. -#}
    {%- set queue = [node] -%}
    {%- set visited = [] -%}
    {%- for current in queue -%}
        {%- for parent in current.depends_on.nodes if parent not in visited -%}
            {%- do visited.append(parent) -%}
            {%- if parent in graph.sources and 'durable' in (graph.sources[parent].meta or {}) -%}
                {%- do declared.append(durable.declared_event_time(graph.sources[parent])) -%}
            {%- elif parent in graph.nodes
                and graph.nodes[parent].resource_type in ('model', 'snapshot') -%}
                {%- if graph.nodes[parent].config.get('event_time') -%}
                    {%- do declared.append(graph.nodes[parent].config.event_time) -%}
                {%- else -%}
                    {%- do queue.append(graph.nodes[parent]) -%}
                {%- endif -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endfor -%}
    {%- set declared = declared | unique | list -%}
    {{ return(declared[0] if declared | length == 1 else 'updated_at') }}
{% endmacro %}
