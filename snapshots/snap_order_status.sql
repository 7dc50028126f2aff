{% snapshot snap_order_status %}
    {#- Only versions loaded since the last snapshot: older ones are in the snapshot already. -#}
    select * from {{ ref('stg_jaffle__orders') }}
    {% if execute and load_relation(this) is not none -%}
    where {{ loaded_after_target() }}
    {%- endif %}
{% endsnapshot %}
