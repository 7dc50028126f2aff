with products as (
    select * from {{ ref('stg_jaffle__products') }}
),

supplies as (
    select * from {{ ref('stg_jaffle__supplies') }}
),

supply_costs as (
    select
        product_sku,
        sum(supply_cost_cents) as supply_cost_cents,
        max(case when is_perishable then 1 else 0 end) = 1 as has_perishable_supplies
    from supplies
    group by product_sku
),

final as (
    select
        products.product_sku,
        products.product_name,
        products.product_type,
        products.product_description,
        {{ cents_to_dollars('products.price_cents') }} as product_price,
        {{ cents_to_dollars('coalesce(supply_costs.supply_cost_cents, 0)') }} as supply_cost,
        products.is_food_item,
        products.is_drink_item,
        coalesce(supply_costs.has_perishable_supplies, false) as has_perishable_supplies,
        products.updated_at
    from products
    left join supply_costs
        on products.product_sku = supply_costs.product_sku
)

select * from final
