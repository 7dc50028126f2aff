with stores as (
    select * from {{ ref('base_jaffle__stores') }}
    where invalid_reason is null
),

latest_stores as (
    {{ durable.latest_version('stores', ['store_id']) }}
),

final as (
    select
        store_id,
        store_name,
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
