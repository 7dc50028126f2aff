with customers as (
    select * from {{ ref('stg_jaffle__customers') }}
),

orders as (
    select * from {{ ref('fct_orders') }}
),

customer_orders as (
    select
        customer_id,
        min(ordered_at) as first_ordered_at,
        max(ordered_at) as last_ordered_at,
        count(*) as order_count,
        sum(case when is_returned then 0 else order_total end) as lifetime_spend
    from orders
    group by customer_id
),

final as (
    select
        customers.customer_id,
        customers.customer_name,
        customer_orders.first_ordered_at,
        customer_orders.last_ordered_at,
        cast(coalesce(customer_orders.order_count, 0) as bigint) as order_count,
        cast(coalesce(customer_orders.lifetime_spend, 0) as numeric(18, 2)) as lifetime_spend,
        case
            when customer_orders.order_count > 1 then 'returning'
            else 'new'
        end as customer_type,
        customers.updated_at
    from customers
    left join customer_orders
        on customers.customer_id = customer_orders.customer_id
)

select * from final
