with stores as (
    select * from {{ ref('base_jaffle__stores') }}
    where invalid_reason is null
),

latest_stores as (
    {{ durable.latest_version('stores', ['id']) }}
),

final as (
    select
        id as store_id,
        name as store_name,
        opened_at,
        tax_rate,
        updated_at,
        _source_file,
        _delivery_date,
        _row_number,
        _loaded_at
    from latest_stores
)

select * from final
