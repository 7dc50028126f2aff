{{
    config(
        materialized=('table' if target.type == 'spark' else 'incremental'),
        incremental_strategy='hash_delete_insert',
        unique_key='customer_id',
        post_hook="{{ durable.drop_withdrawn_versions(ref('base_jaffle__customers'), 'customer_id') }}",
    )
}}

with renamed_customers as {{ durable.inline_cte() }} (
    {#- Every delivered version, under the project's names. -#}
    select
        id as customer_id,
        name as customer_name,
        updated_at,
        _source_file,
        _delivery_date,
        _row_number,
        _loaded_at,
        _deleted,
        invalid_reason
    from {{ ref('base_jaffle__customers') }}
),

customers as (
    {#- Per key: its new versions and the one kept; every version on a full refresh
        (macros/incremental_staging.sql). -#}
    {{ durable.versions_to_rank('renamed_customers', 'customer_id', [
        'customer_id',
        'customer_name',
        'updated_at',
        '_source_file',
        '_delivery_date',
        '_row_number',
        '_loaded_at',
        '_deleted',
    ]) }}
),

latest_customers as (
    {#- A key whose latest version is a delete has no row. -#}
    {{ durable.latest_version('customers', ['customer_id'], deletes=true) }}
),

final as (
    select
        customer_id,
        customer_name,
        updated_at,
        _source_file,
        _delivery_date,
        _row_number,
        _loaded_at,
        _deleted
    from latest_customers
)

select * from final
