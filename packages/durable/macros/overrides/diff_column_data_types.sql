{#-
    dbt's check for an incremental model whose column types changed (on_schema_change='fail').
    On PostgreSQL a contract's `varchar` makes the table's column `character varying`, while the
    model's SQL yields `text` (trim(), md5(), literals) in the temp table of each incremental run:
    dbt reports that as a type change, though an unbounded varchar and text are the same type
    there. This treats them as equal and leaves every other difference to dbt's check.
-#}
{% macro postgres__diff_column_data_types(source_columns, target_columns) %}
    {%- set unbounded_text = ['text', 'character varying', 'varchar'] -%}
    {%- set result = [] -%}
    {%- for change in default__diff_column_data_types(source_columns, target_columns) -%}
        {%- set target = target_columns | selectattr('name', 'equalto', change['column_name']) | first -%}
        {%- set source = source_columns | selectattr('name', 'equalto', change['column_name']) | first -%}
        {%- set both_text = source.dtype | lower in unbounded_text and target.dtype | lower in unbounded_text
            and not source.char_size and not target.char_size -%}
        {%- if not both_text -%}
            {%- do result.append(change) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(result) }}
{% endmacro %}
