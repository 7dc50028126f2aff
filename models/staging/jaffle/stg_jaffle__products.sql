with products as (
    select * from {{ ref('base_jaffle__products') }}
    where invalid_reason is null
),

latest_products as (
    {{ durable.latest_version('products', ['sku']) }}
),

final as (
    select
        sku as product_sku,
        name as product_name,
        type as product_type,
        description as product_description,
        price as price_cents,
        type = 'jaffle' as is_food_item,
        type = 'beverage' as is_drink_item,
        updated_at,
        _source_file,
        _delivery_date,
        _row_number,
        _loaded_at
    from latest_products
)

select * from final
