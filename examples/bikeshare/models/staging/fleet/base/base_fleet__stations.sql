{#- Every delivered station row, typed, with the reason it cannot be used (null when it can). -#}
with source as (
    select * from {{ source('fleet', 'stations') }}
    {% if is_incremental() %}
    {#- Only files loaded since the last run; a re-delivered file brings all its rows again. -#}
    where {{ durable.loaded_after_target() }}
    {% endif %}
),

typed as (
    select
        nullif(trim(station_id), '') as station_id,
        trim(station_name) as station_name,
        {{ durable.try_cast_as('capacity', 'bigint') }} as capacity,
        {{ durable.try_cast_as('updated_at', 'timestamp') }} as updated_at,
        _source_file,
        _delivery_date,
        _row_number,
        _loaded_at
    from source
),

checked as (
    select
        *,
        case
            when station_id is null then 'missing key: station_id'
            when capacity is null then 'malformed number: capacity'
            when updated_at is null then 'malformed timestamp: updated_at'
            when capacity <= 0 then 'impossible value: capacity not positive'
            when {{ durable.is_impossible_time('updated_at') }}
                then 'impossible value: updated_at before the system went live or in the future'
        end as invalid_reason
    from typed
)

select * from checked
