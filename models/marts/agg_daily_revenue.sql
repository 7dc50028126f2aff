{{
    config(
        materialized='incremental',
        incremental_strategy=('insert_overwrite' if target.type == 'spark' else 'delete+insert'),
        unique_key='order_date',
        partition_by=(['order_date'] if target.type == 'spark' else none),
        file_format='parquet',
        on_schema_change='fail',
    )
}}

{#-
    Revenue per store and day. Each day an order of which changed in the window is recomputed
    whole and replaces that day's rows (delete+insert on order_date), so a late or corrected order
    corrects its day.
-#}

with orders as {{ durable.inline_cte() }} (
    select * from {{ ref('fct_orders') }}
),

{% if is_incremental() %}
changed_days as (
    select distinct order_date from orders
    where {{ durable.changed_in_window('updated_at', '_delivery_date') }}
),

orders_on_changed_days as (
    select orders.*
    from orders
    inner join changed_days
        on orders.order_date = changed_days.order_date
),
{% else %}
orders_on_changed_days as (
    select * from orders
),
{% endif %}

daily as (
    select
        order_date,
        store_id,
        count(*) as order_count,
        sum(case when is_returned then 1 else 0 end) as returned_order_count,
        sum(item_count) as item_count,
        sum(case when is_returned then 0 else subtotal end) as revenue,
        sum(case when is_returned then 0 else tax_paid end) as tax_collected,
        max(updated_at) as updated_at,
        max(_delivery_date) as _delivery_date
    from orders_on_changed_days
    group by order_date, store_id
),

final as (
    select
        order_date || ':' || store_id as daily_revenue_id,
        order_date,
        store_id,
        cast(order_count as bigint) as order_count,
        cast(returned_order_count as bigint) as returned_order_count,
        cast(item_count as bigint) as item_count,
        cast(revenue as numeric(18, 2)) as revenue,
        cast(tax_collected as numeric(18, 2)) as tax_collected,
        updated_at,
        _delivery_date
    from daily
)

select * from final
