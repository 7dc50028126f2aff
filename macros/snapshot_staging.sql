{#
    Snapshots compare the versions loaded since their last run with the snapshot's current rows.
    dbt's staging query (`default__snapshot_staging_table`) reads every current row for that, and
    DuckDB materializes them and hashes all of them even on a day with a handful of new versions:
    about 2 s at 7M orders, growing with the history (docs/BENCHMARKS.md).

    This override hands dbt's own query the current rows of the new versions' keys only. It is
    exact when the snapshot does not track hard deletes (the default, `hard_deletes='ignore'`):
    insertions and updates only ever join current rows to the new versions by key. With
    `hard_deletes` set, or a composite unique key, dbt's query runs unchanged.
#}

{% macro default__snapshot_staging_table(strategy, source_sql, target_relation) -%}
    {%- set key = strategy.unique_key -%}
    {%- if strategy.hard_deletes in (none, 'ignore') and key is string -%}
        {%- set current_rows_of_new_keys -%}
            (
                select * from {{ target_relation }}
                where {{ key }} in (select {{ key }} from snapshot_query)
            ) as current_rows_of_new_keys
        {%- endset -%}
        {{ dbt.default__snapshot_staging_table(strategy, source_sql, current_rows_of_new_keys) }}
    {%- else -%}
        {{ dbt.default__snapshot_staging_table(strategy, source_sql, target_relation) }}
    {%- endif -%}
{%- endmacro %}
