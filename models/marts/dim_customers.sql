with customers as (
    select * from {{ ref('stg_jaffle__customers') }}
),

customer_months as (
    select * from {{ ref('int_orders_summed_to_customer_months') }}
),

customer_orders as (
    {#- A few rows per customer (one a month they ordered in), not every order again. -#}
    select
        customer_id,
        min(first_ordered_at) as first_ordered_at,
        max(last_ordered_at) as last_ordered_at,
        sum(order_count) as order_count,
        sum(spend) as lifetime_spend
    from customer_months
    group by customer_id
),

inferred_customers as (
    {#-
        A customer record can land after their first order. Rather than drop or block the
        order, the customer is inferred from it (a late-arriving dimension member) and
        filled in when the record lands, since this table is rebuilt every run.
    -#}
    select
        customer_orders.customer_id,
        cast(null as {{ dbt.type_string() }}) as customer_name,
        cast(null as timestamp) as updated_at
    from customer_orders
    left join customers
        on customer_orders.customer_id = customers.customer_id
    where customers.customer_id is null
),

all_customers as (
    select
        customer_id,
        customer_name,
        updated_at,
        false as is_inferred
    from customers
    union all
    select
        customer_id,
        customer_name,
        updated_at,
        true as is_inferred
    from inferred_customers
),

final as (
    select
        all_customers.customer_id,
        all_customers.customer_name,
        all_customers.is_inferred,
        customer_orders.first_ordered_at,
        customer_orders.last_ordered_at,
        cast(coalesce(customer_orders.order_count, 0) as bigint) as order_count,
        cast(coalesce(customer_orders.lifetime_spend, 0) as numeric(18, 2)) as lifetime_spend,
        case
            when customer_orders.order_count > 1 then 'returning'
            else 'new'
        end as customer_type,
        all_customers.updated_at
    from all_customers
    left join customer_orders
        on all_customers.customer_id = customer_orders.customer_id
)

select * from final
