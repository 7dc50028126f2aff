{#
    Incremental staging: a daily run reads what was delivered since the last run, not the whole
    history (docs/BENCHMARKS.md measures why). Every raw row carries the `_loaded_at` of its
    file's load; `_landed_files` holds each file's latest load.

    - `base_` models append the rows of files loaded after what they hold, replacing all the rows
      of a re-delivered file (delete+insert on `_source_file`): `durable.loaded_after_target()`.
    - `stg_` models rank, per key with a new version, that version against the one they keep
      (`durable.versions_to_rank(...)`); a key whose kept version came from a file re-delivered since
      (`_landed_files.status = 'replaced'`) is ranked again over all its base versions.
      `durable.drop_withdrawn_versions(...)` then drops a kept version whose row is no longer a valid
      row of its file and that has no other valid version.

    A full refresh (or the first run) reads everything, so both give the same tables.
#}

{% macro loaded_after_target(loaded_at='_loaded_at') -%}
    {{ loaded_at }} > (
        select coalesce(max({{ loaded_at }}), cast('1900-01-01' as timestamp)) from {{ this }}
    )
{%- endmacro %}


{% macro drop_replaced_files(loaded_at='_loaded_at') -%}
    {#- Pre-hook of a base model (`durable.base_model` adds it): the rows of the files loaded
        again since what the model holds go before the new versions of those files are
        appended, so a file re-sent without some rows, or with none, loses them here. A
        re-send that was quarantined keeps its earlier rows: its ledger row is not `replaced`. -#}
    {%- if not execute or not is_incremental() -%}{{ return('') }}{%- endif -%}
    delete from {{ this }}
    where _source_file in (
        select source_file from {{ source('durable', 'landed_files') }}
        where
            status = 'replaced'
            and loaded_at > (
                select coalesce(max({{ loaded_at }}), cast('1900-01-01' as timestamp))
                from {{ this }}
            )
    )
{%- endmacro %}


{% macro withdrawn_candidates() -%}
    {#- Kept versions whose file was delivered again since they were loaded: the new file
        replaced their rows, and may no longer hold them. A join from the few replaced files
        rather than a correlated EXISTS per kept row: DuckDB decorrelates that by first copying
        every kept row, which costs what the history costs even when no file was replaced. -#}
    select kept.* from {{ this }} as kept
    inner join {{ source('durable', 'landed_files') }} as landed
        on
            kept._source_file = landed.source_file
            and kept._loaded_at < landed.loaded_at
    where landed.status = 'replaced'
{%- endmacro %}


{% macro versions_to_rank(base_relation, key, columns, key_hashed=false) -%}
    {#- The valid versions a staging model ranks to keep the latest per key. A full refresh
        ranks every base version. A daily run ranks, for each key with a new version, the new
        versions and the one it keeps: that one won over every older version, so the history
        is read once per key in `this` (the model's size), not once per version in the base
        (every version ever delivered). A key whose kept version may have been withdrawn is
        ranked over all its base versions again. `columns` are the model's: the kept rows
        and the base rows meet in one union. `key_hashed`: the model stores the key's hash,
        and the kept versions are looked up by it (packages/durable/macros/lookup/key_lookup.sql). -#}
    {%- set column_list = columns | join(', ') -%}
    {%- if is_incremental() -%}
        with new_versions as (
            select {{ column_list }} from {{ base_relation }}
            where invalid_reason is null and {{ durable.loaded_after_target() }}
        ),

        withdrawn_keys as (
            select withdrawn.{{ key }} from ({{ durable.withdrawn_candidates() }}) as withdrawn
        )

        select * from new_versions
        union all
        select {{ column_list }} from {{ base_relation }}
        where
            invalid_reason is null
            and not {{ durable.loaded_after_target() }}
            and {{ key }} in (select withdrawn_keys.{{ key }} from withdrawn_keys)
        {%- if durable.deleted_marker_column() in columns %}
        union all
        {#- A key deleted earlier has no kept version: its delete still outranks an older
            version arriving late. Delete rows are few, and sit in few blocks. #}
        select {{ column_list }} from {{ base_relation }}
        where
            invalid_reason is null
            and {{ durable.deleted_marker_column() }}
            and not {{ durable.loaded_after_target() }}
            and {{ key }} in (select new_versions.{{ key }} from new_versions)
        {%- endif %}
        union all
        select {{ column_list }} from {{ this }}
        where
            {% if key_hashed -%}
            {{ durable.has_key_in(this, key, 'new_versions') }}
            {%- else -%}
            {{ key }} in (select new_versions.{{ key }} from new_versions)
            {%- endif %}
            and {{ key }} not in (select withdrawn_keys.{{ key }} from withdrawn_keys)
    {%- else -%}
        select {{ column_list }} from {{ base_relation }}
        where invalid_reason is null
    {%- endif -%}
{%- endmacro %}


{% macro drop_withdrawn_versions(base_relation, key) -%}
    {#- post-hook of incremental staging models: re-ranking replaced every withdrawn version
        that had a successor; a kept version whose row is no longer a valid row of its file had
        none, and goes, kept as a before image (window/before_images.sql) for the models
        downstream. -#}
    {%- if is_incremental() -%}
        {%- set withdrawn_keys -%}
            select withdrawn.{{ key }}
            from ({{ durable.withdrawn_candidates() }}) as withdrawn
            left join (
                {#- Only the rows of replaced files: a join against every delivered row would
                    cost what the history costs on every run. -#}
                select
                    delivered._source_file,
                    delivered._row_number,
                    delivered._loaded_at
                from {{ base_relation }} as delivered
                inner join {{ source('durable', 'landed_files') }} as landed
                    on delivered._source_file = landed.source_file
                where
                    landed.status = 'replaced'
                    and delivered.invalid_reason is null
            ) as still_delivered
                on
                    withdrawn._source_file = still_delivered._source_file
                    and withdrawn._row_number = still_delivered._row_number
                    and withdrawn._loaded_at = still_delivered._loaded_at
            where still_delivered._source_file is null
        {%- endset -%}
        {%- set columns = adapter.get_columns_in_relation(this) | map(attribute='name')
            | map('lower') | list -%}
        {{ durable.record_before_images(
            this, columns,
            'select ' ~ columns | join(', ') ~ ' from ' ~ this ~ ' where ' ~ key
            ~ ' in (' ~ withdrawn_keys ~ ')',
        ) }}
        delete from {{ this }}
        where {{ key }} in ({{ withdrawn_keys }})
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}
