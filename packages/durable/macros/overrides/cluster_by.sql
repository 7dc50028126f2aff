{#
    `meta: {cluster_by: ordered_at}` on a model: DuckDB writes its table in that order when it
    builds it whole (a full refresh, the first run), so rows that change together sit together.
    Two reasons, both DuckDB's:

    - it rewrites, at the next checkpoint, every row group an UPDATE touched. A day's changes
      are to recent orders; written in key order (random ids) they touch every row group, and
      a daily MERGE costs what the history costs. In time order they touch the last few.
    - it skips the row groups whose min/max a filter excludes: a window's filter on the
      delivery date (`durable.changed_in_window`) reads the last blocks, not every row.

    Incremental runs append their new rows at the end, so the order holds without a sort.
    Engines with their own clustering leave it to their config (Snowflake and BigQuery
    `cluster_by`, Spark partitions); there the meta key does nothing.
#}
{% macro duckdb__create_table_as(
    temporary, relation, compiled_code, language='sql', partitioned_by=none, sorted_by=none
) -%}
    {%- set order = (config.get('meta') or {}).get('cluster_by') -%}
    {%- if order and not temporary and language == 'sql' -%}
        {%- set columns = order if order is string else order | join(', ') -%}
        {%- set compiled_code = 'select * from (' ~ compiled_code ~ ') as unordered order by '
            ~ columns -%}
    {%- endif -%}
    {#- dbt-duckdb's own macro. Unqualified, the name would resolve to this one for the
        package's own models (a package's macros come first for its nodes). -#}
    {{ return(dbt.duckdb__create_table_as(
        temporary, relation, compiled_code, language, partitioned_by, sorted_by
    )) }}
{%- endmacro %}
