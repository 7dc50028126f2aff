{#- Every delivered store row, typed, with the reason it cannot be used. -#}
with source as {{ durable.inline_cte() }} (
    select * from {{ source('jaffle', 'stores') }}
    {% if is_incremental() %}
    {#- Only files loaded since the last run; a re-delivered file brings all its rows again. -#}
    where {{ durable.loaded_after_target() }}
    {% endif %}
),

typed as {{ durable.inline_cte() }} (
    select
        nullif(trim(id), '') as store_id,
        trim(name) as store_name,
        {{ durable.try_cast_as('opened_at', 'timestamp') }} as opened_at,
        {{ durable.try_cast_as('tax_rate', 'numeric(6, 4)') }} as tax_rate,
        {{ durable.try_cast_as('updated_at', 'timestamp') }} as updated_at,
        _source_file,
        _delivery_date,
        _row_number,
        _loaded_at,
        opened_at as opened_at_delivered,
        tax_rate as tax_rate_delivered,
        updated_at as updated_at_delivered
    from source
),

conflicting_duplicates as (
    {{ durable.conflicting_duplicates(
        'typed', ['store_id'], ['store_name', 'opened_at', 'tax_rate'],
    ) }}
),

checked as (
    select
        *,
        case
            when store_id is null then 'missing key: id'
            when opened_at is null then 'malformed timestamp: opened_at'
            when tax_rate is null then 'malformed number: tax_rate'
            when updated_at is null then 'malformed timestamp: updated_at'
            when tax_rate < 0 or tax_rate > 1 then 'impossible value: tax_rate outside 0..1'
            when {{ durable.is_conflicting_duplicate(['store_id']) }}
                then 'conflicting duplicate: same id and updated_at, different values'
        end as invalid_reason
    from typed
)

select * from checked
