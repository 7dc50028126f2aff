{% snapshot snap_customers %}
{#- Only versions loaded since the last snapshot: older ones are in the snapshot already. -#}
select
    customer_id,
    customer_name,
    updated_at,
    _source_file,
    _delivery_date,
    _row_number,
    _loaded_at
from {{ ref('stg_jaffle__customers') }}
{% if execute and load_relation(this) is not none -%}
where {{ loaded_after_target() }}
{%- endif %}
{% endsnapshot %}
