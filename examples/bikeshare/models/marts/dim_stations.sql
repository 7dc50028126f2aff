with stations as (
    select * from {{ ref('stg_fleet__stations') }}
),

final as (
    select
        station_id,
        station_name,
        capacity,
        updated_at
    from stations
)

select * from final
