{#- Every delivered product row, typed, with the reason it cannot be used. -#}
with source as {{ durable.inline_cte() }} (
    select * from {{ source('jaffle', 'products') }}
    {% if is_incremental() %}
    {#- Only files loaded since the last run; a re-delivered file brings all its rows again. -#}
    where {{ durable.loaded_after_target() }}
    {% endif %}
),

typed as {{ durable.inline_cte() }} (
    select
        nullif(trim(sku), '') as product_sku,
        trim(name) as product_name,
        lower(trim(type)) as product_type,
        description as product_description,
        {{ durable.try_cast_as('price', 'bigint') }} as price_cents,
        {{ durable.try_cast_as('updated_at', 'timestamp') }} as updated_at,
        _source_file,
        _delivery_date,
        _row_number,
        _loaded_at,
        price as price_delivered,
        updated_at as updated_at_delivered
    from source
),

conflicting_duplicates as (
    {{ durable.conflicting_duplicates(
        'typed',
        ['product_sku'],
        ['product_name', 'product_type', 'product_description', 'price_cents'],
    ) }}
),

checked as (
    select
        *,
        case
            when product_sku is null then 'missing key: sku'
            when price_cents is null then 'malformed amount: price'
            when updated_at is null then 'malformed timestamp: updated_at'
            when price_cents < 0 then 'impossible value: negative price'
            when {{ durable.is_impossible_time('updated_at') }}
                then 'impossible value: updated_at before the shop opened or in the future'
            when {{ durable.is_conflicting_duplicate(['product_sku']) }}
                then 'conflicting duplicate: same sku and updated_at, different values'
        end as invalid_reason
    from typed
)

select * from checked
