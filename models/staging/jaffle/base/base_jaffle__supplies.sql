{#- Every delivered supply row, typed, with the reason it cannot be used. -#}
with source as {{ durable.inline_cte() }} (
    select * from {{ source('jaffle', 'supplies') }}
    {% if is_incremental() %}
    {#- Only files loaded since the last run; a re-delivered file brings all its rows again. -#}
    where {{ durable.loaded_after_target() }}
    {% endif %}
),

typed as {{ durable.inline_cte() }} (
    select
        nullif(trim(id), '') as supply_id,
        nullif(trim(sku), '') as product_sku,
        trim(name) as supply_name,
        {{ durable.try_cast_as('cost', 'bigint') }} as supply_cost_cents,
        case lower(trim(perishable))
            when 'true' then true
            when 'false' then false
        end as is_perishable,
        {{ durable.try_cast_as('updated_at', 'timestamp') }} as updated_at,
        _source_file,
        _delivery_date,
        _row_number,
        _loaded_at,
        cost as cost_delivered,
        perishable as perishable_delivered,
        updated_at as updated_at_delivered
    from source
),

conflicting_duplicates as (
    {{ durable.conflicting_duplicates(
        'typed',
        ['supply_id', 'product_sku'],
        ['supply_name', 'supply_cost_cents', 'is_perishable'],
    ) }}
),

checked as (
    select
        *,
        case
            when supply_id is null then 'missing key: id'
            when product_sku is null then 'missing key: sku'
            when supply_cost_cents is null then 'malformed amount: cost'
            when is_perishable is null then 'malformed boolean: perishable'
            when updated_at is null then 'malformed timestamp: updated_at'
            when supply_cost_cents < 0 then 'impossible value: negative cost'
            when {{ durable.is_impossible_time('updated_at') }}
                then 'impossible value: updated_at before the shop opened or in the future'
            when {{ durable.is_conflicting_duplicate(['supply_id', 'product_sku']) }}
                then 'conflicting duplicate: same id, sku and updated_at, different values'
        end as invalid_reason
    from typed
)

select * from checked
