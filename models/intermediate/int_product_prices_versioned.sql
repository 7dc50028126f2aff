{{
    config(
        incremental_strategy='durable_sync',
        unique_key='product_price_id',
    )
}}

{#-
    Every price a product has had, with the span it was valid for, so order lines are priced as
    of the order and a later price change never rewrites history. Rebuilt whole each run (a
    product has a few prices); its strategy writes only the versions that changed, and keeps the
    old ones, so fct_order_items re-prices the items of a price withdrawn or corrected.
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
        updated_at,
        {#- The first known price also applies to the orders placed before it. -#}
        case
            when row_number() over (partition by sku order by updated_at) > 1 then updated_at
        end as valid_from,
        lead(updated_at) over (partition by sku order by updated_at) as valid_to,
        _delivery_date
    from price_versions
),

final as (
    select
        product_sku || '@' || cast(updated_at as {{ dbt.type_string() }}) as product_price_id,
        product_sku,
        price_cents,
        valid_from,
        valid_to,
        updated_at,
        _delivery_date
    from spans
)

select * from final
