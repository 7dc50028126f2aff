{#-
    Every price a product has had, with the span it was valid for, so order lines are priced as
    of the order and a later price change never rewrites history.
-#}
with products as (
    select * from {{ ref('base_jaffle__products') }}
    where invalid_reason is null
),

price_versions as (
    {{ durable.latest_version('products', ['sku', 'updated_at']) }}
),

spans as (
    select
        sku as product_sku,
        price as price_cents,
        updated_at as valid_from,
        lead(updated_at) over (partition by sku order by updated_at) as valid_to,
        row_number() over (partition by sku order by updated_at) = 1 as is_first_price,
        updated_at,
        _delivery_date
    from price_versions
),

final as (
    select
        product_sku || '@' || cast(valid_from as {{ dbt.type_string() }}) as product_price_id,
        product_sku,
        price_cents,
        valid_from,
        valid_to,
        is_first_price,
        updated_at,
        _delivery_date
    from spans
)

select * from final
