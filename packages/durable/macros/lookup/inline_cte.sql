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


{#
    `orders_of_items as {{ durable.materialized_cte() }} ({{ durable.rows_with_keys(...) }})`: a lookup by key hash
    that the query then joins to the same keys. DuckDB's join-order optimizer would otherwise
    merge the lookup into that join and scan the whole parent, its rowid filter dropped (every
    row group read: 0.8 s of fct_order_items' 1.7 s at 14M items); computed on its own, the lookup
    reads only the row groups holding the keys. Only on incremental runs
    (`{{ durable.materialized_cte() if is_incremental() }}`): a full refresh's "lookup" is every row,
    which materializing would copy whole. Engines without the keyword plan it their way.
#}
{% macro materialized_cte() %}
    {{ return(adapter.dispatch('materialized_cte', 'durable')()) }}
{% endmacro %}

{% macro default__materialized_cte() %}{{ return('') }}{% endmacro %}

{% macro duckdb__materialized_cte() %}{{ return('materialized') }}{% endmacro %}
