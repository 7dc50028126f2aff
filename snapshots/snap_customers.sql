{% snapshot snap_customers %}
{#- Every column of the staging model; only the versions loaded since the last snapshot. -#}
select * from {{ ref('stg_jaffle__customers') }}  -- noqa: AM04
{% if execute and load_relation(this) is not none -%}
where {{ durable.loaded_after_target() }}
{%- endif %}
{% endsnapshot %}
