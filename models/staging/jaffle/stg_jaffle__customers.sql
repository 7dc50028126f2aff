{{
    config(
        materialized=('table' if target.type == 'spark' else 'incremental'),
        incremental_strategy='delete+insert',
        unique_key='customer_id',
        post_hook="{{ drop_withdrawn_versions(ref('base_jaffle__customers'), 'customer_id') }}",
    )
}}

with customers as (
    select * from {{ ref('base_jaffle__customers') }}
    where
        invalid_reason is null
    {% if is_incremental() %}
        {#- Only keys with a version loaded since the last run (macros/incremental_staging.sql). -#}
        and customer_id in ({{ keys_to_rerank(ref('base_jaffle__customers'), 'customer_id') }})
    {% endif %}
),

latest_customers as (
    {{ latest_version('customers', ['customer_id']) }}
),

final as (
    select
        customer_id,
        customer_name,
        updated_at,
        _source_file,
        _delivery_date,
        _row_number,
        _loaded_at
    from latest_customers
)

select * from final
