{#- Every delivered dock reading, typed, with the reason it cannot be used (null when it can). -#}
with source as (
    select * from {{ source('fleet', 'dock_readings') }}
    {% if is_incremental() %}
    {#- Only files loaded since the last run; a re-delivered file brings all its rows again. -#}
    where {{ durable.loaded_after_target() }}
    {% endif %}
),

typed as (
    select
        nullif(trim(station_id), '') as station_id,
        {{ durable.try_cast_as('reading_date', 'date') }} as reading_date,
        {{ durable.try_cast_as('bikes_available', 'bigint') }} as bikes_available,
        {{ durable.try_cast_as('docks_disabled', 'bigint') }} as docks_disabled,
        {{ durable.try_cast_as('updated_at', 'timestamp') }} as updated_at,
        _source_file,
        _delivery_date,
        _row_number,
        _loaded_at
    from source
),

conflicting_duplicates as (
    {{ durable.conflicting_duplicates(
        'typed', ['station_id', 'reading_date'], ['bikes_available', 'docks_disabled'],
    ) }}
),

checked as (
    select
        *,
        case
            when station_id is null then 'missing key: station_id'
            when reading_date is null then 'malformed date: reading_date'
            when bikes_available is null then 'malformed number: bikes_available'
            when docks_disabled is null then 'malformed number: docks_disabled'
            when updated_at is null then 'malformed timestamp: updated_at'
            when bikes_available < 0 or docks_disabled < 0
                then 'impossible value: negative count'
            when {{ durable.is_impossible_time('updated_at') }}
                then 'impossible value: updated_at before the system went live or in the future'
            when {{ durable.is_conflicting_duplicate(['station_id', 'reading_date']) }}
                then 'conflicting duplicate: same key and updated_at, different values'
        end as invalid_reason
    from typed
)

select * from checked
