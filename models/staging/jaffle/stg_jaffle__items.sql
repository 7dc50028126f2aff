{{
    config(
        materialized=('table' if target.type == 'spark' else 'incremental'),
        incremental_strategy='hash_delete_insert',
        unique_key='order_item_id',
        on_schema_change='fail',
        post_hook="{{ durable.drop_withdrawn_versions(ref('base_jaffle__items'), 'order_item_id') }}",
    )
}}

with renamed_items as {{ durable.inline_cte() }} (
    {#- Every delivered version, under the project's names. -#}
    select
        id as order_item_id,
        order_id,
        sku as product_sku,
        updated_at,
        _source_file,
        _delivery_date,
        _row_number,
        _loaded_at,
        _deleted,
        invalid_reason
    from {{ ref('base_jaffle__items') }}
),

items as (
    {#- Per key: its new versions and the one kept; every version on a full refresh
        (macros/incremental_staging.sql). -#}
    {{ durable.versions_to_rank('renamed_items', 'order_item_id', [
        'order_item_id',
        'order_id',
        'product_sku',
        'updated_at',
        '_source_file',
        '_delivery_date',
        '_row_number',
        '_loaded_at',
        '_deleted',
    ], key_hashed=true) }}
),

latest_items as (
    {#- A key whose latest version is a delete has no row. -#}
    {{ durable.latest_version('items', ['order_item_id'], deletes=true) }}
),

final as (
    select
        order_item_id,
        order_id,
        product_sku,
        updated_at,
        _source_file,
        _delivery_date,
        _row_number,
        _loaded_at,
        _deleted,
        {#- Find the items of the window's orders, and the kept versions of the day's items,
            without reading every id (macros/key_lookup.sql). #}
        {{ durable.key_hash('order_id') }} as _order_id_hash,
        {{ durable.key_hash('order_item_id') }} as _order_item_id_hash
    from latest_items
)

select * from final
