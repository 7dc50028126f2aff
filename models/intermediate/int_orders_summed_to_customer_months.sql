{{
    config(
        incremental_strategy='replace_groups',
        unique_key='order_month',
    )
}}

{#-
    Each customer's orders summed by the month they were placed in, so that dim_customers sums a
    few rows per customer instead of every order again. A day's orders touch most customers (they
    come back every few days), so recomputing the touched customers would read most of the history;
    the touched months are the last one or two. Each month an order of which changed in the window
    is recomputed whole and replaces that month's rows (delete+insert on order_month): a changed
    order moves its old customer's totals too, since the whole month is summed again.
-#}

with orders as (
    {#- Every order of each month an order of which changed in the window; all on a full
        refresh. -#}
    {{ durable.changed_rows(ref('fct_orders'), whole=month_of('order_date')) }}
),

customer_months as (
    select
        customer_id,
        {{ month_of('order_date') }} as order_month,
        min(ordered_at) as first_ordered_at,
        max(ordered_at) as last_ordered_at,
        count(*) as order_count,
        sum(case when is_returned then 0 else order_total end) as spend,
        max(updated_at) as updated_at,
        max(_delivery_date) as _delivery_date
    from orders
    group by customer_id, {{ month_of('order_date') }}
),

final as (
    select
        customer_id || ':' || cast(order_month as {{ dbt.type_string() }}) as customer_month_id,
        customer_id,
        order_month,
        first_ordered_at,
        last_ordered_at,
        cast(order_count as bigint) as order_count,
        cast(spend as numeric(18, 2)) as spend,
        updated_at,
        _delivery_date
    from customer_months
)

select * from final
