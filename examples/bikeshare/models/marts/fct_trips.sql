{{
    config(
        materialized='incremental',
        incremental_strategy='durable_merge',
        unique_key='trip_id',
    )
}}

with trips as (
    {#- The trips that changed in the run's window (late and corrected ones included); every
        trip on a full refresh. -#}
    {{ durable.changed_rows(ref('stg_fleet__trips')) }}
),

final as (
    select
        trip_id,
        bike_id,
        start_station_id,
        end_station_id,
        started_at,
        ended_at,
        cast(started_at as date) as trip_date,
        {{ dbt.datediff('started_at', 'ended_at', 'minute') | trim }} as duration_minutes,
        start_station_id = end_station_id as is_round_trip,
        updated_at,
        _delivery_date
    from trips
)

select * from final
