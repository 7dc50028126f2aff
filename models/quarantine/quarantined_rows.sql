{#-
    Every delivered row that cannot be used, with why and where it came from. Together with the
    staging models this accounts for every delivered row: loaded or quarantined, never lost.
-#}
{%- set entities = ['customers', 'orders', 'items', 'products', 'stores', 'supplies'] -%}

with
{% for entity in entities %}
invalid_{{ entity }} as (
    select
        '{{ entity }}' as entity,
        _source_file,
        _delivery_date,
        _row_number,
        invalid_reason as reason,
        _loaded_at
    from {{ ref('base_jaffle__' ~ entity) }}
    where invalid_reason is not null
),
{% endfor %}

unreadable_lines as (
    select
        entity,
        _source_file,
        _delivery_date,
        _row_number,
        'unreadable line: ' || error_message as reason,
        _loaded_at
    from {{ source('jaffle', 'rejected_rows') }}
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
        reason,
        _source_file,
        _delivery_date,
        _row_number,
        _loaded_at
    from unioned
)

select * from final
