with trips as (
    select * from {{ ref('base_fleet__trips') }}
    where invalid_reason is null
),

latest_trips as (
    {{ durable.latest_version('trips', ['trip_id']) }}
),

final as (
    select
        trip_id,
        bike_id,
        start_station_id,
        end_station_id,
        started_at,
        ended_at,
        updated_at,
        _source_file,
        _delivery_date,
        _row_number,
        _loaded_at
    from latest_trips
)

select * from final
