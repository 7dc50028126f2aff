{{
    config(
        incremental_strategy='durable_merge',
        unique_key='order_item_id',
    )
}}

with order_items as (
    {#- The items that changed in the run's window, those whose order did (an item that
        waited for its order is released then), and those a price that changed (late ones
        included) applies to; every item on a full refresh. -#}
    {{ durable.changed_rows(
        ref('stg_jaffle__items'),
        also_when={
            'order_id': ref('stg_jaffle__orders'),
            'product_sku': {
                'versions': ref('int_product_prices_versioned'),
                'during': 'ordered_at',
            },
        },
    ) }}
),

orders as (
    select * from {{ ref('stg_jaffle__orders') }}
),

product_prices as (
    select * from {{ ref('int_product_prices_versioned') }}
),

items_with_orders as (
    {#- An item whose order has not arrived yet waits: it is picked up when the order lands. -#}
    select
        order_items.order_item_id,
        order_items.order_id,
        order_items.product_sku,
        order_items.updated_at,
        order_items._delivery_date,
        orders.customer_id,
        orders.store_id,
        orders.ordered_at
    from order_items
    inner join orders
        on order_items.order_id = orders.order_id
),

priced_items as (
    {#- The price valid when the order was placed (the first known price for older orders). -#}
    select
        items_with_orders.*,
        product_prices.price_cents
    from items_with_orders
    inner join product_prices
        on items_with_orders.product_sku = product_prices.product_sku
            and (
                items_with_orders.ordered_at >= product_prices.valid_from
                or product_prices.valid_from is null
            )
            and (
                items_with_orders.ordered_at < product_prices.valid_to
                or product_prices.valid_to is null
            )
),

final as (
    {#- Product attributes (name, type) live in dim_products, joined on product_sku: a fact
        keeps only what was true when the order was placed, so a renamed or retyped product
        never leaves stale copies here. -#}
    select
        order_item_id,
        order_id,
        customer_id,
        store_id,
        product_sku,
        ordered_at,
        cast(ordered_at as date) as order_date,
        {{ cents_to_dollars('price_cents') }} as product_price,
        updated_at,
        _delivery_date
    from priced_items
)

select * from final
