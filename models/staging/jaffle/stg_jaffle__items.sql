with items as (
    select * from {{ ref('base_jaffle__items') }}
    where invalid_reason is null
),

latest_items as (
    {{ latest_version('items', ['order_item_id']) }}
),

final as (
    select
        order_item_id,
        order_id,
        product_sku,
        updated_at,
        _source_file,
        _delivery_date,
        _row_number,
        _loaded_at
    from latest_items
)

select * from final
