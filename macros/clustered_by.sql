{#
    The physical order of a large incremental table: rows written in the order of the time they
    describe. A daily run's changes are recent (new orders and items, status changes of orders
    placed days ago), so its MERGE and delete+insert then touch the last row groups instead of
    every one, and a filter on a date column skips the older row groups by their min/max
    (DuckDB's zone maps; on PostgreSQL, a BRIN index would use the same order).
    docs/BENCHMARKS.md: the day's 52k order updates took 1.7 s merged into 7M rows in the
    order a full refresh happened to write them, 0.2 s into the same rows clustered by time.

    Daily appends arrive in time order by themselves; the order matters for the full refresh,
    which writes the whole history at once. Spark partitions by order_date instead.
#}

{% macro clustered_by(columns) -%}
    {{ return(adapter.dispatch('clustered_by', 'jaffle_shop')(columns)) }}
{%- endmacro %}

{% macro default__clustered_by(columns) -%}
    order by {{ columns | join(', ') }}
{%- endmacro %}

{% macro spark__clustered_by(columns) -%}
    {#- insert_overwrite rewrites whole order_date partitions: a global sort would only cost. -#}
{%- endmacro %}
