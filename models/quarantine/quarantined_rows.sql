{#-
    Every delivered row that is not in the marts, and why. `rejected`: it failed a row-level
    check (malformed value, missing key, impossible value, conflicting duplicate) or the CSV
    reader could not split it. `held`: a valid item whose order has not arrived yet; it leaves
    this table by itself when the order lands and the item is released into the marts.
-#}
{%- set entities = ['customers', 'orders', 'items', 'products', 'stores', 'supplies'] -%}

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
        _loaded_at
    from {{ ref('base_jaffle__' ~ entity) }}
    where invalid_reason is not null
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
        _loaded_at
    from {{ source('jaffle', 'rejected_rows') }}
),

orphan_items as (
    select
        'items' as entity,
        'held' as quarantine_status,
        'orphan: its order has not arrived yet' as reason,
        items._source_file,
        items._delivery_date,
        items._row_number,
        items._loaded_at
    from {{ ref('stg_jaffle__items') }} as items
    left join {{ ref('stg_jaffle__orders') }} as orders
        on items.order_id = orders.order_id
    where orders.order_id is null
),

unioned as (
    {% for entity in entities %}
    select * from invalid_{{ entity }}
    union all
    {% endfor %}
    select * from unreadable_lines
    union all
    select * from orphan_items
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
        _loaded_at
    from unioned
)

select * from final
