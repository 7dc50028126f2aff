{#
    Snapshots compare the versions loaded since their last run with the snapshot's current rows.
    dbt's staging query (`default__snapshot_staging_table`) reads every current row for that, and
    DuckDB materializes them and hashes all of them even on a day with a handful of new versions:
    about 2 s at 7M orders, growing with the history (docs/BENCHMARKS.md).

    This override hands dbt's own query the current rows of the new versions' keys only. It is
    exact when the snapshot does not track hard deletes (the default, `hard_deletes='ignore'`):
    insertions and updates only ever join current rows to the new versions by key. With
    `hard_deletes` set, or a composite unique key, dbt's query runs unchanged.

    On a run with no new version (a re-run, a day without deliveries) it hands over no current
    row at all: DuckDB cannot tell the new versions are none, and would otherwise hash every
    current row to join them to nothing (2-3 s at 7M orders). Finding out costs a query that
    reads the new versions' block of the staging model (dbt renders this macro twice a run).
#}

{% macro default__snapshot_staging_table(strategy, source_sql, target_relation) -%}
    {%- set key = strategy.unique_key -%}
    {%- if strategy.hard_deletes in (none, 'ignore') and key is string -%}
        {#- A snapshot of a staging model that stores the key's hash (macros/key_lookup.sql)
            looks the current rows up by it. -#}
        {%- set key_hashed = stores_key_hash(target_relation, key) -%}
        {%- set any_new_version = run_query(
            'select 1 from (\n' ~ source_sql ~ '\n) as new_versions limit 1'
        ) -%}
        {%- set current_rows_of_new_keys -%}
            (
                select * from {{ target_relation }}
                {% if any_new_version is none or any_new_version.rows | length > 0 -%}
                where {{ has_key_in(target_relation, key, 'snapshot_query') if key_hashed
                    else key ~ ' in (select ' ~ key ~ ' from snapshot_query)' }}
                {%- else -%}
                where 1 = 0
                {%- endif %}
            ) as current_rows_of_new_keys
        {%- endset -%}
        {{ dbt.default__snapshot_staging_table(strategy, source_sql, current_rows_of_new_keys) }}
    {%- else -%}
        {{ dbt.default__snapshot_staging_table(strategy, source_sql, target_relation) }}
    {%- endif -%}
{%- endmacro %}
