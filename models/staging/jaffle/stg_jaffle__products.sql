with products as (
    select * from {{ ref('base_jaffle__products') }}
    where invalid_reason is null
),

latest_products as (
    {{ durable.latest_version('products', ['product_sku']) }}
),

final as (
    select
        product_sku,
        product_name,
        product_type,
        product_description,
        price_cents,
        product_type = 'jaffle' as is_food_item,
        product_type = 'beverage' as is_drink_item,
        updated_at,
        _source_file,
        _delivery_date,
        _row_number,
        _loaded_at
    from latest_products
)

select * from final
