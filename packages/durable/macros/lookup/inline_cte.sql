{#
    `with orders as {{ durable.inline_cte() }} (select * from ...)`: an import CTE that the query reads
    more than once stays a view of its table instead of a copy of all its rows.

    DuckDB (1.1+) and PostgreSQL (12+) materialize a CTE referenced twice, before any filter of
    the query reaches it: an incremental model would then copy the whole history of its parents
    on every run (docs/BENCHMARKS.md, "Findings"). NOT MATERIALIZED lets the window's filters and
    joins reach the table scans. Other engines inline CTEs anyway.
#}
{% macro inline_cte() %}
    {{ return(adapter.dispatch('inline_cte', 'durable')()) }}
{% endmacro %}

{% macro default__inline_cte() %}{{ return('') }}{% endmacro %}

{% macro duckdb__inline_cte() %}{{ return('not materialized') }}{% endmacro %}

{% macro postgres__inline_cte() %}{{ return('not materialized') }}{% endmacro %}
