{{
    config(
        materialized='incremental',
        incremental_strategy='durable_merge',
        unique_key=['station_id', 'reading_date'],
    )
}}

with dock_readings as (
    {#- The readings that changed in the run's window, and every reading of a station whose
        capacity changed in it; every reading on a full refresh. -#}
    {{ durable.changed_rows(
        ref('stg_fleet__dock_readings'),
        also_when={'station_id': ref('stg_fleet__stations')},
    ) }}
),

stations as (
    select * from {{ ref('stg_fleet__stations') }}
),

readings_with_stations as (
    select
        dock_readings.station_id,
        dock_readings.reading_date,
        dock_readings.bikes_available,
        dock_readings.docks_disabled,
        stations.capacity,
        stations.capacity - dock_readings.docks_disabled as docks_in_service,
        case
            when stations.updated_at > dock_readings.updated_at then stations.updated_at
            else dock_readings.updated_at
        end as updated_at,
        case
            when stations._delivery_date > dock_readings._delivery_date
                then stations._delivery_date
            else dock_readings._delivery_date
        end as _delivery_date
    from dock_readings
    inner join stations
        on dock_readings.station_id = stations.station_id
),

final as (
    select
        station_id,
        reading_date,
        bikes_available,
        docks_disabled,
        capacity,
        docks_in_service,
        cast(
            case
                when docks_in_service > 0 then 1.0 * bikes_available / docks_in_service
            end as numeric(6, 4)
        ) as occupancy_rate,
        updated_at,
        _delivery_date
    from readings_with_stations
)

select * from final
