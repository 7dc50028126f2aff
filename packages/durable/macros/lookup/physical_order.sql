{#
    `select ... from final {{ durable.physical_order('ordered_at') }}`: a full refresh writes the rows in
    time order, so rows that change together sit together. Two reasons, both DuckDB's:

    - it rewrites, at the next checkpoint, every row group an UPDATE touched. A day's changes
      are to recent orders; written in key order (random ids) they touch every row group, and
      a daily MERGE costs what the history costs. In time order they touch the last few.
    - it skips the row groups whose min/max a filter excludes: a window's filter on the
      delivery date (`changed_in_window`) reads the last blocks, not every row.

    Incremental runs append their new rows at the end, so the order holds without a sort.
    Engines with their own clustering leave it to their config (Snowflake and BigQuery
    `cluster_by`, Spark partitions): there it renders nothing.
#}
{% macro physical_order(columns) %}
    {{ return(adapter.dispatch('physical_order', 'durable')(columns)) }}
{% endmacro %}

{% macro default__physical_order(columns) %}{{ return('') }}{% endmacro %}

{% macro duckdb__physical_order(columns) -%}
    {%- if not is_incremental() -%}
        order by {{ columns if columns is string else columns | join(', ') }}
    {%- endif -%}
{%- endmacro %}
