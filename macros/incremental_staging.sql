{#
    Incremental staging: a daily run reads what was delivered since the last run, not the whole
    history (docs/BENCHMARKS.md measures why). Every raw row carries the `_loaded_at` of its
    file's load; `_landed_files` holds each file's latest load.

    - `base_` models append the rows of files loaded after what they hold, replacing all the rows
      of a re-delivered file (delete+insert on `_source_file`): `loaded_after_target()`.
    - `stg_` models re-rank only the keys with a new version, or whose kept version came from a
      file re-delivered since (`_landed_files.status = 'replaced'`): `keys_to_rerank(...)`;
      `drop_withdrawn_versions(...)` then drops a kept version whose row is no longer a valid
      row of its file and that has no other valid version.

    A full refresh (or the first run) reads everything, so both give the same tables.
#}

{% macro loaded_after_target(loaded_at='_loaded_at') -%}
    {{ loaded_at }} > (
        select coalesce(max({{ loaded_at }}), cast('1900-01-01' as timestamp)) from {{ this }}
    )
{%- endmacro %}


{% macro is_withdrawn_candidate(version) -%}
    {#- The file this version came from was delivered again since it was loaded: the new file
        replaced its rows, and may no longer hold this version. -#}
    exists (
        select 1 from {{ source('jaffle', 'landed_files') }} as landed
        where
            landed.source_file = {{ version }}._source_file
            and landed.status = 'replaced'
            and landed.loaded_at > {{ version }}._loaded_at
    )
{%- endmacro %}


{% macro keys_to_rerank(base_relation, key) -%}
    select {{ key }} from {{ base_relation }}
    where {{ loaded_after_target() }}
    union
    select {{ key }} from {{ this }} as kept
    where {{ is_withdrawn_candidate('kept') }}
{%- endmacro %}


{% macro drop_withdrawn_versions(base_relation) -%}
    {#- post-hook of incremental staging models: re-ranking replaced every withdrawn version
        that had a successor; a kept version whose row is no longer a valid row of its file had
        none, and goes. -#}
    {%- if is_incremental() -%}
        delete from {{ this }} as kept
        where
            {{ is_withdrawn_candidate('kept') }}
            and not exists (
                select 1 from {{ base_relation }} as delivered
                where
                    delivered._source_file = kept._source_file
                    and delivered._row_number = kept._row_number
                    and delivered._loaded_at = kept._loaded_at
                    and delivered.invalid_reason is null
            )
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}
