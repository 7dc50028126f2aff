{{
    config(
        incremental_strategy='durable_merge',
        unique_key='order_id',
    )
}}

with orders as (
    {#- The orders that changed in the run's window, and those an item of which did (items can
        land after their order); every order on a full refresh. -#}
    {{ durable.changed_rows(
        ref('stg_jaffle__orders'),
        also_when={'order_id': ref('stg_jaffle__items')},
    ) }}
),

order_items as (
    select * from {{ ref('stg_jaffle__items') }}
),

order_item_counts as (
    select
        order_items.order_id,
        count(*) as item_count,
        max(order_items.updated_at) as items_updated_at,
        max(order_items._delivery_date) as items_delivered_on
    from order_items
    inner join orders
        on order_items.order_id = orders.order_id
    group by order_items.order_id
),

final as (
    select
        orders.order_id,
        orders.customer_id,
        orders.store_id,
        orders.ordered_at,
        cast(orders.ordered_at as date) as order_date,
        orders.order_status,
        orders.order_status = 'returned' as is_returned,
        {{ cents_to_dollars('orders.subtotal_cents') }} as subtotal,
        {{ cents_to_dollars('orders.tax_paid_cents') }} as tax_paid,
        {{ cents_to_dollars('orders.order_total_cents') }} as order_total,
        cast(coalesce(order_item_counts.item_count, 0) as bigint) as item_count,
        case
            when order_item_counts.items_updated_at > orders.updated_at
                then order_item_counts.items_updated_at
            else orders.updated_at
        end as updated_at,
        case
            when order_item_counts.items_delivered_on > orders._delivery_date
                then order_item_counts.items_delivered_on
            else orders._delivery_date
        end as _delivery_date
    from orders
    left join order_item_counts
        on orders.order_id = order_item_counts.order_id
)

select * from final
