with stores as (
    select * from {{ ref('stg_jaffle__stores') }}
),

final as (
    select
        store_id,
        store_name,
        opened_at,
        cast(opened_at as date) as opened_date,
        tax_rate,
        updated_at
    from stores
)

select * from final
