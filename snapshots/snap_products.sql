{% snapshot snap_products %}
{#- Only versions loaded since the last snapshot: older ones are in the snapshot already. -#}
select
    product_sku,
    product_name,
    product_type,
    product_description,
    price_cents,
    is_food_item,
    is_drink_item,
    updated_at,
    _source_file,
    _delivery_date,
    _row_number,
    _loaded_at
from {{ ref('stg_jaffle__products') }}
{% if execute and load_relation(this) is not none -%}
where {{ loaded_after_target() }}
{%- endif %}
{% endsnapshot %}
