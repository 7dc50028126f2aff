with orders as (
    select * from {{ ref('base_jaffle__orders') }}
    where invalid_reason is null
),

latest_orders as (
    {{ latest_version('orders', ['order_id']) }}
),

final as (
    select
        order_id,
        customer_id,
        store_id,
        ordered_at,
        subtotal_cents,
        tax_paid_cents,
        order_total_cents,
        order_status,
        updated_at,
        _source_file,
        _delivery_date,
        _row_number,
        _loaded_at
    from latest_orders
)

select * from final
