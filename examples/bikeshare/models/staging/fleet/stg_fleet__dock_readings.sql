with dock_readings as (
    select * from {{ ref('base_fleet__dock_readings') }}
    where invalid_reason is null
),

latest_dock_readings as (
    {{ durable.latest_version('dock_readings', ['station_id', 'reading_date']) }}
),

final as (
    select
        station_id,
        reading_date,
        bikes_available,
        docks_disabled,
        updated_at,
        _source_file,
        _delivery_date,
        _row_number,
        _loaded_at
    from latest_dock_readings
)

select * from final
