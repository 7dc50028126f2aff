{{
    config(
        materialized='incremental',
        incremental_strategy=('insert_overwrite' if target.type == 'spark' else 'hash_merge'),
        unique_key='order_item_id',
        partition_by=(['order_date'] if target.type == 'spark' else none),
        file_format='parquet',
        on_schema_change='fail',
    )
}}

with order_items as {{ durable.inline_cte() }} (
    select * from {{ ref('stg_jaffle__items') }}
),

orders as {{ durable.inline_cte() }} (
    select * from {{ ref('stg_jaffle__orders') }}
),

products as {{ durable.inline_cte() }} (
    select * from {{ ref('stg_jaffle__products') }}
),

product_prices as {{ durable.inline_cte() }} (
    select * from {{ ref('int_product_prices_versioned') }}
),

{% if is_incremental() %}
changed_orders as (
    select order_id from orders
    where {{ durable.changed_in_window('updated_at', '_delivery_date') }}
),

changed_items as (
    {#- Items that changed or arrived (a scan that skips blocks by delivery date), and items
        whose order did (a held item is released then): the one pass over every item is a
        semi-join on order_id, which DuckDB filters inside the scan. -#}
    select * from order_items
    where {{ durable.changed_in_window('updated_at', '_delivery_date') }}
    union
    {{ durable.rows_with_keys(ref('stg_jaffle__items'), 'order_id', 'changed_orders') }}
),

dated_items as (
    {#- Spark rewrites whole days, so it dates every item to find its day (see
        incremental_batch); elsewhere the changed items are dated below, with their order. -#}
    {% if target.type == 'spark' -%}
    select
        order_items.*,
        cast(orders.ordered_at as date) as order_date
    from order_items
    inner join orders
        on order_items.order_id = orders.order_id
    {%- else -%}
    select * from changed_items
    {%- endif %}
),

items_in_window as (
    {#- The changed items; on Spark every item of their days (see incremental_batch). -#}
    {{ durable.incremental_batch('dated_items', 'order_item_id', 'changed_items', {
        'column': 'order_date', 'expression': 'order_date',
    }) }}
),
{% else %}
items_in_window as (
    select * from order_items
),
{% endif %}

orders_of_items as {{ durable.materialized_cte() if is_incremental() }} (
    {#- A daily run looks its items' orders up by key hash (macros/key_lookup.sql), on its own
        (macros/inline_cte.sql); a full refresh joins every order, never copied aside. -#}
    {% if is_incremental() -%}
    {{ durable.rows_with_keys(ref('stg_jaffle__orders'), 'order_id', 'items_in_window') }}
    {%- else -%}
    select * from orders
    {%- endif %}
),

items_with_orders as (
    {#- An item whose order has not arrived yet waits: it is picked up when the order lands. -#}
    select
        items_in_window.order_item_id,
        items_in_window.order_id,
        items_in_window.product_sku,
        items_in_window.updated_at,
        items_in_window._delivery_date,
        items_in_window._order_item_id_hash,
        orders.customer_id,
        orders.store_id,
        orders.ordered_at
    from items_in_window
    inner join orders_of_items as orders
        on items_in_window.order_id = orders.order_id
),

priced_items as (
    {#- The price valid when the order was placed; the first known price for older orders. -#}
    select
        items_with_orders.*,
        product_prices.price_cents
    from items_with_orders
    inner join product_prices
        on items_with_orders.product_sku = product_prices.product_sku
            and (
                (
                    items_with_orders.ordered_at >= product_prices.valid_from
                    and (
                        items_with_orders.ordered_at < product_prices.valid_to
                        or product_prices.valid_to is null
                    )
                )
                or (
                    product_prices.is_first_price
                    and items_with_orders.ordered_at < product_prices.valid_from
                )
            )
),

joined as (
    select
        priced_items.order_item_id,
        priced_items.order_id,
        priced_items.customer_id,
        priced_items.store_id,
        priced_items.product_sku,
        priced_items.ordered_at,
        cast(priced_items.ordered_at as date) as order_date,
        {{ cents_to_dollars('priced_items.price_cents') }} as product_price,
        products.is_food_item,
        products.is_drink_item,
        priced_items.updated_at,
        priced_items._delivery_date,
        priced_items._order_item_id_hash
    from priced_items
    inner join products
        on priced_items.product_sku = products.product_sku
),

final as (
    select
        *,
        {{ durable.row_hash([
            'order_item_id', 'order_id', 'customer_id', 'store_id', 'product_sku',
            'ordered_at', 'product_price', 'is_food_item', 'is_drink_item', 'updated_at',
            '_delivery_date',
        ]) }} as row_hash,
        {#- Set only on rows this run inserted or changed: the ledger counts them. -#}
        '{{ invocation_id }}' as _invocation_id
    from joined
)

select * from final
{{ durable.physical_order('ordered_at') }}
