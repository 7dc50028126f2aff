{#
    Incremental staging: a daily run reads what was delivered since the last run, not the whole
    history (docs/BENCHMARKS.md measures why). Every raw row carries the `_loaded_at` of its
    file's load, and `_landed_files.loaded_at` is the same value for the file's latest load.

    - `base_` models append the rows of files loaded after what they hold, replacing all the rows
      of a re-delivered file (delete+insert on `_source_file`): `loaded_after_target()`.
    - `stg_` models re-rank only the keys with a new version, or whose kept version came from a
      file re-delivered since: `keys_to_rerank(...)`; `drop_withdrawn_versions(...)` then drops
      a kept version whose file no longer holds it and that has no other valid version.

    A full refresh (or the first run) reads everything, so both give the same tables.
#}

{% macro loaded_after_target(loaded_at='_loaded_at') -%}
    {{ loaded_at }} > (
        select coalesce(max({{ loaded_at }}), cast('1900-01-01' as timestamp)) from {{ this }}
    )
{%- endmacro %}


{% macro is_withdrawn_version(version) -%}
    {#- The file this version came from was loaded again since (a re-delivery replaced its rows).
        A rejected re-delivery left the earlier rows in place, so it does not count. -#}
    exists (
        select 1 from {{ source('jaffle', 'landed_files') }} as landed
        where
            landed.source_file = {{ version }}._source_file
            and landed.status <> 'rejected'
            and landed.loaded_at <> {{ version }}._loaded_at
    )
{%- endmacro %}


{% macro keys_to_rerank(base_relation, key) -%}
    select {{ key }} from {{ base_relation }}
    where {{ loaded_after_target() }}
    union
    select {{ key }} from {{ this }} as kept
    where {{ is_withdrawn_version('kept') }}
{%- endmacro %}


{% macro drop_withdrawn_versions() -%}
    {#- post-hook of incremental staging models: re-ranking replaced every withdrawn version
        that had a successor, so those left had none. -#}
    {%- if is_incremental() -%}
        delete from {{ this }} as kept where {{ is_withdrawn_version('kept') }}
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}
