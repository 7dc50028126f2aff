{{
    config(
        materialized=('table' if target.type == 'spark' else 'incremental'),
        incremental_strategy='hash_delete_insert',
        unique_key='order_id',
        on_schema_change='fail',
        post_hook="{{ durable.drop_withdrawn_versions(ref('base_jaffle__orders'), 'order_id') }}",
    )
}}

with renamed_orders as {{ durable.inline_cte() }} (
    {#- Every delivered version, under the project's names. -#}
    select
        id as order_id,
        customer as customer_id,
        store_id,
        ordered_at,
        subtotal as subtotal_cents,
        tax_paid as tax_paid_cents,
        order_total as order_total_cents,
        status as order_status,
        updated_at,
        _source_file,
        _delivery_date,
        _row_number,
        _loaded_at,
        _deleted,
        invalid_reason
    from {{ ref('base_jaffle__orders') }}
),

orders as (
    {#- Per key: its new versions and the one kept; every version on a full refresh
        (macros/incremental_staging.sql). -#}
    {{ durable.versions_to_rank('renamed_orders', 'order_id', [
        'order_id',
        'customer_id',
        'store_id',
        'ordered_at',
        'subtotal_cents',
        'tax_paid_cents',
        'order_total_cents',
        'order_status',
        'updated_at',
        '_source_file',
        '_delivery_date',
        '_row_number',
        '_loaded_at',
        '_deleted',
    ], key_hashed=true) }}
),

latest_orders as (
    {#- A key whose latest version is a delete has no row. -#}
    {{ durable.latest_version('orders', ['order_id'], deletes=true) }}
),

final as (
    select
        order_id,
        customer_id,
        store_id,
        ordered_at,
        subtotal_cents,
        tax_paid_cents,
        order_total_cents,
        order_status,
        updated_at,
        _source_file,
        _delivery_date,
        _row_number,
        _loaded_at,
        _deleted,
        {#- Finds the window's orders, and the kept versions of the day's, without reading
            every id (macros/key_lookup.sql). #}
        {{ durable.key_hash('order_id') }} as _order_id_hash
    from latest_orders
)

select * from final
