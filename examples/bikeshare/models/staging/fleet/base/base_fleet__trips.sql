{#- Every delivered trip row, typed, with the reason it cannot be used (null when it can). -#}
with source as (
    select * from {{ source('fleet', 'trips') }}
    {% if is_incremental() %}
    {#- Only files loaded since the last run; a re-delivered file brings all its rows again. -#}
    where {{ durable.loaded_after_target() }}
    {% endif %}
),

typed as (
    select
        nullif(trim(trip_id), '') as trip_id,
        nullif(trim(bike_id), '') as bike_id,
        nullif(trim(start_station_id), '') as start_station_id,
        nullif(trim(end_station_id), '') as end_station_id,
        {{ durable.try_cast_as('started_at', 'timestamp') }} as started_at,
        {{ durable.try_cast_as('ended_at', 'timestamp') }} as ended_at,
        {{ durable.try_cast_as('updated_at', 'timestamp') }} as updated_at,
        _source_file,
        _delivery_date,
        _row_number,
        _loaded_at
    from source
),

conflicting_duplicates as (
    {{ durable.conflicting_duplicates(
        'typed',
        ['trip_id'],
        ['bike_id', 'start_station_id', 'end_station_id', 'started_at', 'ended_at'],
    ) }}
),

checked as (
    select
        *,
        case
            when trip_id is null then 'missing key: trip_id'
            when start_station_id is null then 'missing value: start_station_id'
            when end_station_id is null then 'missing value: end_station_id'
            when started_at is null then 'malformed timestamp: started_at'
            when ended_at is null then 'malformed timestamp: ended_at'
            when updated_at is null then 'malformed timestamp: updated_at'
            when ended_at < started_at then 'impossible value: ended before it started'
            when {{ durable.is_impossible_time('started_at') }}
                then 'impossible value: started_at before the system went live or in the future'
            when {{ durable.is_impossible_time('updated_at') }}
                then 'impossible value: updated_at before the system went live or in the future'
            when {{ durable.is_conflicting_duplicate(['trip_id']) }}
                then 'conflicting duplicate: same id and updated_at, different values'
        end as invalid_reason
    from typed
)

select * from checked
