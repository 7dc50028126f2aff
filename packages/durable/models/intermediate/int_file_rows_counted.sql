{{
    config(
        enabled=var('base_models', []) | length > 0,
        incremental_strategy='delete+insert',
        unique_key='_source_file',
    )
}}

{#-
    Rows each landed file put into the raw tables, valid or not (and of the valid ones, the
    deletes the source sent), counted once per load of the
    file (a re-delivered file is counted again) instead of re-counting all history every run.
    The base models are the project's var `base_models` (macros/quarantine/landed_models.sql).
-#}
{%- set base_models = durable.base_models() -%}

with
{% for base in base_models %}
{{ base.name }}_counted as (
    select
        _source_file,
        count(*) as rows_in_raw,
        sum(case when invalid_reason is null then 1 else 0 end) as rows_valid,
        {% if execute and durable.has_column(base.relation, durable.deleted_marker_column()) -%}
        sum(case when invalid_reason is null and _deleted then 1 else 0 end) as rows_deleted,
        {%- else -%}
        0 as rows_deleted,
        {%- endif %}
        max(_loaded_at) as _loaded_at
    from {{ base.relation }}
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
        0 as rows_deleted,
        loaded_at as _loaded_at
    from {{ source('durable', 'landed_files') }}
),

unioned as (
    {% for base in base_models %}
    select * from {{ base.name }}_counted
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
        cast(sum(rows_deleted) as bigint) as rows_deleted,
        max(_loaded_at) as _loaded_at
    from unioned
    group by _source_file
)

select * from final
