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
        {#- A snapshot of a staging model that stores the key's hash (packages/durable/macros/lookup/key_lookup.sql)
            looks the current rows up by it. -#}
        {%- set key_hashed = durable.stores_key_hash(target_relation, key) -%}
        {%- set any_new_version = run_query(
            'select 1 from (\n' ~ source_sql ~ '\n) as new_versions limit 1'
        ) -%}
        {%- set current_rows_of_new_keys -%}
            (
                select * from {{ target_relation }}
                {% if any_new_version is none or any_new_version.rows | length > 0 -%}
                where {{ durable.has_key_in(target_relation, key, 'snapshot_query') if key_hashed
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


{#
    dbt-duckdb closes the replaced versions with `update ... from <staging> where
    <staging>.dbt_scd_id = <target>.dbt_scd_id`, a join that reads the scd id (an md5 text) of
    every version ever kept: 0.44 s cold at 9.4M versions, growing with the history. When the
    snapshot stores its key's hash, this override closes them the same way, but among the
    current versions of the staged keys only, found by the hash (packages/durable/macros/lookup/key_lookup.sql) in a
    CTE of their own: in one join with the staging rows, DuckDB's optimizer reads the whole scd
    id column before it applies the rowid filter (0.15 s instead of 0.44 s, docs/BENCHMARKS.md).
    dbt-duckdb's insert of the new versions follows unchanged.

    Rows kept before the snapshot had the hash column have none: dbt adds a new column to a
    snapshot, null in its older rows, and a lookup by hash would miss them (their key's next
    version would leave them current). So the merge first fills in what is missing: once, the
    run that adds the column; later a no-op that skips every row group (no null in them).
#}
{% macro duckdb__snapshot_merge_sql(target, source, insert_cols) -%}
    {%- set merge_sql = dbt.duckdb__snapshot_merge_sql(target, source, insert_cols) -%}
    {%- set key = config.get('unique_key') -%}
    {%- set insert_new_versions = 'insert into ' ~ target -%}
    {%- if key is string and insert_new_versions in merge_sql and durable.stores_key_hash(target, key) -%}
        {%- set columns = config.get('snapshot_table_column_names')
            or get_snapshot_table_column_names() -%}
        {%- set valid_to = columns.dbt_valid_to -%}
        {%- set valid_to_current = config.get('dbt_valid_to_current') -%}
        {%- set hash_column = durable.key_hash_column(key) -%}
        update {{ target }}
        set {{ hash_column }} = {{ durable.key_hash(key) }}
        where {{ hash_column }} is null;

        with current_versions_of_staged_keys as materialized (
            select
                rowid as version_rowid,
                {{ columns.dbt_scd_id }} as version_scd_id,
            from {{ target }}
            where rowid in ({{ durable.rowids_with_keys(target, key, source) }})
                and ({{ valid_to }} is null
                {%- if valid_to_current %} or {{ valid_to }} = {{ valid_to_current }}{% endif %})
        )

        update {{ target }} as DBT_INTERNAL_TARGET
        set {{ valid_to }} = DBT_INTERNAL_SOURCE.{{ valid_to }}
        from {{ source }} as DBT_INTERNAL_SOURCE, current_versions_of_staged_keys
        where DBT_INTERNAL_TARGET.rowid = version_rowid
            and DBT_INTERNAL_SOURCE.{{ columns.dbt_scd_id }}::text = version_scd_id::text
            and DBT_INTERNAL_SOURCE.dbt_change_type::text in ('update'::text, 'delete'::text);

        {{ merge_sql[merge_sql.index(insert_new_versions):] }}
    {%- else -%}
        {{ merge_sql }}
    {%- endif -%}
{%- endmacro %}
