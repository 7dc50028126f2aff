{#- Every delivered order row, typed, with the reason it cannot be used (null when it can). -#}
with source as {{ durable.inline_cte() }} (
    select * from {{ source('jaffle', 'orders') }}
    {% if is_incremental() %}
    {#- Only files loaded since the last run; a re-delivered file brings all its rows again. -#}
    where {{ durable.loaded_after_target() }}
    {% endif %}
),

typed as {{ durable.inline_cte() }} (
    select
        nullif(trim(id), '') as order_id,
        nullif(trim(customer), '') as customer_id,
        nullif(trim(store_id), '') as store_id,
        {{ durable.try_cast_as('ordered_at', 'timestamp') }} as ordered_at,
        {{ durable.try_cast_as('subtotal', 'bigint') }} as subtotal_cents,
        {{ durable.try_cast_as('tax_paid', 'bigint') }} as tax_paid_cents,
        {{ durable.try_cast_as('order_total', 'bigint') }} as order_total_cents,
        lower(trim(status)) as order_status,
        {{ durable.try_cast_as('updated_at', 'timestamp') }} as updated_at,
        _source_file,
        _delivery_date,
        _row_number,
        _loaded_at,
        ordered_at as ordered_at_delivered,
        subtotal as subtotal_delivered,
        tax_paid as tax_paid_delivered,
        order_total as order_total_delivered,
        updated_at as updated_at_delivered
    from source
),

conflicting_duplicates as (
    {{ durable.conflicting_duplicates(
        'typed',
        ['order_id'],
        ['customer_id', 'store_id', 'ordered_at', 'subtotal_cents', 'tax_paid_cents',
         'order_total_cents', 'order_status'],
    ) }}
),

checked as (
    select
        *,
        case
            when order_id is null then 'missing key: id'
            when ordered_at is null then 'malformed timestamp: ordered_at'
            when updated_at is null then 'malformed timestamp: updated_at'
            when subtotal_cents is null then 'malformed amount: subtotal'
            when tax_paid_cents is null then 'malformed amount: tax_paid'
            when order_total_cents is null then 'malformed amount: order_total'
            when order_status not in ('placed', 'shipped', 'completed', 'returned')
                or order_status is null
                then 'unknown status'
            when subtotal_cents < 0 or tax_paid_cents < 0 or order_total_cents < 0
                then 'impossible value: negative amount'
            when {{ durable.is_impossible_time('ordered_at') }}
                then 'impossible value: ordered_at before the shop opened or in the future'
            when {{ durable.is_impossible_time('updated_at') }}
                then 'impossible value: updated_at before the shop opened or in the future'
            when {{ durable.is_conflicting_duplicate(['order_id']) }}
                then 'conflicting duplicate: same id and updated_at, different values'
        end as invalid_reason
    from typed
)

select * from checked
