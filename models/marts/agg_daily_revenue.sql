{{
    config(
        incremental_strategy='replace_groups',
        unique_key='order_date',
    )
}}

{#-
    Revenue per store and day. Each day an order of which changed in the window is recomputed
    whole and replaces that day's rows (delete+insert on order_date), so a late or corrected order
    corrects its day.
-#}

with orders as (
    {#- Every order of each day an order of which changed in the window; all on a full
        refresh. -#}
    {{ durable.changed_rows(ref('fct_orders'), whole='order_date') }}
),

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
    from orders
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
