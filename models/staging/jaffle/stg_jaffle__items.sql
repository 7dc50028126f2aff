{{
    config(
        materialized=('table' if target.type == 'spark' else 'incremental'),
        incremental_strategy='delete+insert',
        unique_key='order_item_id',
        post_hook="{{ drop_withdrawn_versions(ref('base_jaffle__items'), 'order_item_id') }}",
    )
}}

with items as (
    select * from {{ ref('base_jaffle__items') }}
    where
        invalid_reason is null
    {% if is_incremental() %}
        {#- Only keys with a version loaded since the last run (macros/incremental_staging.sql). -#}
        and order_item_id in ({{ keys_to_rerank(ref('base_jaffle__items'), 'order_item_id') }})
    {% endif %}
),

latest_items as (
    {{ latest_version('items', ['order_item_id']) }}
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
        _loaded_at
    from latest_items
)

select * from final
{{ physical_order('_delivery_date') }}
