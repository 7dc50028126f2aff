{#- Every delivered order item row, typed, with the reason it cannot be used. -#}
with source as {{ durable.inline_cte() }} (
    select * from {{ source('jaffle', 'items') }}
    {% if is_incremental() %}
    {#- Only files loaded since the last run; a re-delivered file brings all its rows again. -#}
    where {{ durable.loaded_after_target() }}
    {% endif %}
),

typed as {{ durable.inline_cte() }} (
    select
        nullif(trim(id), '') as order_item_id,
        nullif(trim(order_id), '') as order_id,
        nullif(trim(sku), '') as product_sku,
        {{ durable.try_cast_as('updated_at', 'timestamp') }} as updated_at,
        _source_file,
        _delivery_date,
        _row_number,
        _loaded_at,
        updated_at as updated_at_delivered
    from source
),

conflicting_duplicates as (
    {{ durable.conflicting_duplicates('typed', ['order_item_id'], ['order_id', 'product_sku']) }}
),

checked as (
    select
        *,
        case
            when order_item_id is null then 'missing key: id'
            when order_id is null then 'missing value: order_id'
            when product_sku is null then 'missing value: sku'
            when updated_at is null then 'malformed timestamp: updated_at'
            when {{ durable.is_impossible_time('updated_at') }}
                then 'impossible value: updated_at before the shop opened or in the future'
            when {{ durable.is_conflicting_duplicate(['order_item_id']) }}
                then 'conflicting duplicate: same id and updated_at, different values'
        end as invalid_reason
    from typed
)

select * from checked
