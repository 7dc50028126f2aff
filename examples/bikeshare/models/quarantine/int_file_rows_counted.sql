{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='_source_file',
    )
}}

{#-
    Rows each landed file put into the raw tables, valid or not, counted once per load of the
    file (a re-delivered file is counted again) instead of re-counting all history every run.
-#}
{#- One base model a line: a new source table is one more line. -#}
{%- set entities = [
    'stations',
    'trips',
    'dock_readings',
] -%}

with
{% for entity in entities %}
{{ entity }}_rows as (
    select
        _source_file,
        count(*) as rows_in_raw,
        sum(case when invalid_reason is null then 1 else 0 end) as rows_valid,
        max(_loaded_at) as _loaded_at
    from {{ ref('base_fleet__' ~ entity) }}
    {% if is_incremental() -%}
    where {{ durable.loaded_after_target() }}
    {%- endif %}
    group by _source_file
),
{% endfor %}

landed_files as (
    {#- A file re-delivered with no rows (or quarantined, its earlier rows withdrawn) must be
        counted again too: as zero. -#}
    select
        source_file as _source_file,
        0 as rows_in_raw,
        0 as rows_valid,
        loaded_at as _loaded_at
    from {{ source('durable', 'landed_files') }}
),

unioned as (
    {% for entity in entities %}
    select * from {{ entity }}_rows
    union all
    {% endfor %}
    select * from landed_files
    {% if is_incremental() -%}
    where {{ durable.loaded_after_target() }}
    {%- endif %}
),

final as (
    select
        _source_file,
        cast(sum(rows_in_raw) as bigint) as rows_in_raw,
        cast(sum(rows_valid) as bigint) as rows_valid,
        max(_loaded_at) as _loaded_at
    from unioned
    group by _source_file
)

select * from final
