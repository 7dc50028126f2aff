{{
    config(
        materialized='incremental',
        incremental_strategy=('insert_overwrite' if target.type == 'spark' else 'delete+insert'),
        unique_key='order_month',
        partition_by=(['order_month'] if target.type == 'spark' else none),
        file_format='parquet',
        on_schema_change='fail',
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

with orders as {{ durable.inline_cte() }} (
    select * from {{ ref('fct_orders') }}
),

{% if is_incremental() %}
changed_months as (
    select distinct {{ month_of('order_date') }} as order_month from orders
    where {{ durable.changed_in_window('updated_at', '_delivery_date') }}
),

orders_in_changed_months as (
    {#- The lower bound lets the scan skip the row groups before the first month (time order). -#}
    select orders.*
    from orders
    where
        orders.order_date >= (select min(order_month) from changed_months)
        and {{ month_of('orders.order_date') }} in (select order_month from changed_months)
),
{% else %}
orders_in_changed_months as (
    select * from orders
),
{% endif %}

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
    from orders_in_changed_months
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
{{ durable.physical_order('order_month') }}
