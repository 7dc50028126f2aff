{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='append_new_columns',
        pre_hook="{{ durable.clear_quarantine_scope() }}",
    )
}}

{#-
    Every delivered row that is not in the marts, and why: it failed a row-level check
    (malformed value, missing key, impossible value, conflicting duplicate) or the CSV reader
    could not split it. Incremental: the pre-hook removes the rows of the window's deliveries,
    this query adds them back.
-#}
{#- One base model a line: a new source table is one more line. -#}
{%- set entities = [
    'stations',
    'trips',
    'dock_readings',
] -%}

with
{% for entity in entities %}
invalid_{{ entity }} as (
    select
        '{{ entity }}' as entity,
        'rejected' as quarantine_status,
        invalid_reason as reason,
        _source_file,
        _delivery_date,
        _row_number,
        _loaded_at,
        cast(null as {{ dbt.type_string() }}) as row_key,
        cast(null as {{ dbt.type_string() }}) as awaited_key
    from {{ ref('base_fleet__' ~ entity) }}
    where invalid_reason is not null and {{ durable.quarantine_scope('_delivery_date') }}
),
{% endfor %}

unreadable_lines as (
    select
        entity,
        'rejected' as quarantine_status,
        'unreadable line: ' || error_message as reason,
        _source_file,
        _delivery_date,
        _row_number,
        _loaded_at,
        cast(null as {{ dbt.type_string() }}) as row_key,
        cast(null as {{ dbt.type_string() }}) as awaited_key
    from {{ source('durable', 'rejected_rows') }}
    where {{ durable.quarantine_scope('_delivery_date') }}
),

unioned as (
    {% for entity in entities %}
    select * from invalid_{{ entity }}
    union all
    {% endfor %}
    select * from unreadable_lines
),

final as (
    select
        _source_file || ':' || cast(_row_number as {{ dbt.type_string() }}) as quarantined_row_id,
        entity,
        quarantine_status,
        reason,
        _source_file,
        _delivery_date,
        _row_number,
        _loaded_at,
        row_key,
        awaited_key
    from unioned
)

select * from final
