with supplies as (
    select * from {{ ref('base_jaffle__supplies') }}
    where invalid_reason is null
),

latest_supplies as (
    {{ durable.latest_version('supplies', ['supply_id', 'product_sku']) }}
),

final as (
    select
        supply_id || ':' || product_sku as product_supply_id,
        supply_id,
        product_sku,
        supply_name,
        supply_cost_cents,
        is_perishable,
        updated_at,
        _source_file,
        _delivery_date,
        _row_number,
        _loaded_at
    from latest_supplies
)

select * from final
