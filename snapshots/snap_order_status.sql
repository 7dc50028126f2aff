{% snapshot snap_order_status %}
{#- Only versions loaded since the last snapshot: older ones are in the snapshot already. -#}
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
    _loaded_at
from {{ ref('stg_jaffle__orders') }}
{% if execute and load_relation(this) is not none -%}
where {{ loaded_after_target() }}
{%- endif %}
{% endsnapshot %}
