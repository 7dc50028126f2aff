with stations as (
    select * from {{ ref('base_fleet__stations') }}
    where invalid_reason is null
),

latest_stations as (
    {{ durable.latest_version('stations', ['station_id']) }}
),

final as (
    select
        station_id,
        station_name,
        capacity,
        updated_at,
        _source_file,
        _delivery_date,
        _row_number,
        _loaded_at
    from latest_stations
)

select * from final
