with customers as (
    select * from {{ ref('base_jaffle__customers') }}
    where invalid_reason is null
),

latest_customers as (
    {{ latest_version('customers', ['customer_id']) }}
),

final as (
    select
        customer_id,
        customer_name,
        updated_at,
        _source_file,
        _delivery_date,
        _row_number,
        _loaded_at
    from latest_customers
)

select * from final
