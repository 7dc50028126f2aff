{{
    config(
        materialized='incremental',
        incremental_strategy=('insert_overwrite' if target.type == 'spark' else 'hash_merge'),
        unique_key='order_id',
        partition_by=(['order_date'] if target.type == 'spark' else none),
        file_format='parquet',
        on_schema_change='fail',
    )
}}

with orders as {{ durable.inline_cte() }} (
    select * from {{ ref('stg_jaffle__orders') }}
),

order_items as {{ durable.inline_cte() }} (
    select * from {{ ref('stg_jaffle__items') }}
),

{% if is_incremental() %}
changed_orders as (
    {#- An order changes when it does, and when one of its items arrives (items can land late). -#}
    select order_id from orders
    where {{ durable.changed_in_window('updated_at', '_delivery_date') }}
    union
    select order_id from order_items
    where {{ durable.changed_in_window('updated_at', '_delivery_date') }}
),

orders_in_window as (
    {#- The changed orders; on Spark every order of their days (see incremental_batch). -#}
    {{ durable.incremental_batch(ref('stg_jaffle__orders'), 'order_id', 'changed_orders', {
        'column': 'order_date', 'expression': 'cast(ordered_at as date)',
    }) }}
),
{% else %}
orders_in_window as (
    select * from orders
),
{% endif %}

item_counts as (
    select
        order_id,
        count(*) as item_count,
        max(updated_at) as items_updated_at,
        max(_delivery_date) as items_delivered_on
    {% if is_incremental() -%}
    from ({{ durable.rows_with_keys(ref('stg_jaffle__items'), 'order_id', 'orders_in_window') }})
        as order_items
    {%- else -%}
    from order_items
    {%- endif %}
    group by order_id
),

joined as (
    select
        orders_in_window.order_id,
        orders_in_window.customer_id,
        orders_in_window.store_id,
        orders_in_window.ordered_at,
        cast(orders_in_window.ordered_at as date) as order_date,
        orders_in_window.order_status,
        orders_in_window.order_status = 'returned' as is_returned,
        {{ cents_to_dollars('orders_in_window.subtotal_cents') }} as subtotal,
        {{ cents_to_dollars('orders_in_window.tax_paid_cents') }} as tax_paid,
        {{ cents_to_dollars('orders_in_window.order_total_cents') }} as order_total,
        cast(coalesce(item_counts.item_count, 0) as bigint) as item_count,
        case
            when item_counts.items_updated_at > orders_in_window.updated_at
                then item_counts.items_updated_at
            else orders_in_window.updated_at
        end as updated_at,
        case
            when item_counts.items_delivered_on > orders_in_window._delivery_date
                then item_counts.items_delivered_on
            else orders_in_window._delivery_date
        end as _delivery_date,
        orders_in_window._order_id_hash
    from orders_in_window
    left join item_counts
        on orders_in_window.order_id = item_counts.order_id
),

final as (
    select
        *,
        {{ durable.row_hash([
            'order_id', 'customer_id', 'store_id', 'ordered_at', 'order_status',
            'subtotal', 'tax_paid', 'order_total', 'item_count', 'updated_at',
            '_delivery_date',
        ]) }} as row_hash,
        {#- Set only on rows this run inserted or changed: the ledger counts them. -#}
        '{{ invocation_id }}' as _invocation_id
    from joined
)

select * from final
{{ durable.physical_order('ordered_at') }}
