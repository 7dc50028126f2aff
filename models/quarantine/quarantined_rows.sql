{{
    config(
        materialized=('table' if target.type == 'spark' else 'incremental'),
        incremental_strategy='append',
        on_schema_change='append_new_columns',
        pre_hook="{{ durable.clear_quarantine_scope(awaited=(ref('stg_jaffle__orders'), 'order_id'), held=(ref('stg_jaffle__items'), 'order_item_id')) }}",
    )
}}

{#-
    Every delivered row that is not in the marts, and why. `rejected`: it failed a row-level
    check (malformed value, missing key, impossible value, conflicting duplicate) or the CSV
    reader could not split it. `held`: a valid item whose order has not arrived yet; it leaves
    this table by itself when the order lands and the item is released into the marts.

    Incremental: the pre-hook (macros/quarantine.sql) removes the rows of the window's
    deliveries and the held rows its deliveries settle; this query adds the window's rows back.
-#}
{#- One entity a line: a new source table is one more line. -#}
{%- set entities = [
    'customers',
    'orders',
    'items',
    'products',
    'stores',
    'supplies',
] -%}

with
{% for entity in entities %}
invalid_{{ entity }} as (
    select
        '{{ entity }}' as entity,
        'rejected' as quarantine_status,
        invalid_reason as reason,
        _source_file,
        _delivery_date,
        _row_number,
        _loaded_at,
        cast(null as {{ dbt.type_string() }}) as row_key,
        cast(null as {{ dbt.type_string() }}) as awaited_key
    from {{ ref('base_jaffle__' ~ entity) }}
    where invalid_reason is not null and {{ durable.quarantine_scope('_delivery_date') }}
),
{% endfor %}

unreadable_lines as (
    select
        entity,
        'rejected' as quarantine_status,
        'unreadable line: ' || error_message as reason,
        _source_file,
        _delivery_date,
        _row_number,
        _loaded_at,
        cast(null as {{ dbt.type_string() }}) as row_key,
        cast(null as {{ dbt.type_string() }}) as awaited_key
    from {{ source('durable', 'rejected_rows') }}
    where {{ durable.quarantine_scope('_delivery_date') }}
),

items_in_scope as (
    select * from {{ ref('stg_jaffle__items') }}
    where {{ durable.quarantine_scope('_delivery_date') }}
),

orders_of_items_in_scope as (
    {#- A daily run looks the window's orders up by key hash (macros/key_lookup.sql). -#}
    {% if is_incremental() -%}
    {{ durable.rows_with_keys(ref('stg_jaffle__orders'), 'order_id', 'items_in_scope') }}
    {%- else -%}
    select * from {{ ref('stg_jaffle__orders') }}
    {%- endif %}
),

orphan_items as (
    {#- The window's items whose order is missing. Items held since earlier deliveries stay in
        the table until the pre-hook sees their order (or a new version of them) arrive. -#}
    select
        'items' as entity,
        'held' as quarantine_status,
        'orphan: its order has not arrived yet' as reason,
        items._source_file,
        items._delivery_date,
        items._row_number,
        items._loaded_at,
        items.order_item_id as row_key,
        items.order_id as awaited_key
    from items_in_scope as items
    left join orders_of_items_in_scope as orders
        on items.order_id = orders.order_id
    where orders.order_id is null
),

unioned as (
    {% for entity in entities %}
    select * from invalid_{{ entity }}
    union all
    {% endfor %}
    select * from unreadable_lines
    union all
    select * from orphan_items
),

final as (
    select
        _source_file || ':' || cast(_row_number as {{ dbt.type_string() }}) as quarantined_row_id,
        entity,
        quarantine_status,
        reason,
        _source_file,
        _delivery_date,
        _row_number,
        _loaded_at,
        row_key,
        awaited_key
    from unioned
)

select * from final
