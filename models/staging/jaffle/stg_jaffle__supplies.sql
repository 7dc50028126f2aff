with supplies as (
    select * from {{ ref('base_jaffle__supplies') }}
    where invalid_reason is null
),

latest_supplies as (
    {{ durable.latest_version('supplies', ['id', 'sku']) }}
),

final as (
    select
        id || ':' || sku as product_supply_id,
        id as supply_id,
        sku as product_sku,
        name as supply_name,
        cost as supply_cost_cents,
        perishable as is_perishable,
        updated_at,
        _source_file,
        _delivery_date,
        _row_number,
        _loaded_at
    from latest_supplies
)

select * from final
