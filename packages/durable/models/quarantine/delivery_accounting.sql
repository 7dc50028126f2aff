{{ config(enabled=var('base_models', []) | length > 0) }}

{#-
    One row per file of the landing zone. For each delivery: rows delivered (CSV records,
    counted by the loader independently of the engine's reader) against rows loaded into the
    raw tables and rows quarantined; every row is one or the other, and a file quarantined
    whole counts all its rows as quarantined. A delete the source sent is a loaded row, also
    counted in `rows_deleted`.
    Its test `every_delivered_row_is_accounted_for` checks it for every delivery.
    Files that are not deliveries (held until their day, or reported) are listed with their
    reason and no row counts, so nothing in the landing zone goes unseen.
-#}
with landed_files as (
    select * from {{ source('durable', 'landed_files') }}
),

landing_findings as (
    select * from {{ source('durable', 'landing_findings') }}
),

quarantined as (
    select * from {{ ref('quarantined_rows') }}
),

base_rows as (
    select * from {{ ref('int_file_rows_counted') }}
),

quarantine_counts as (
    select
        _source_file,
        sum(case when quarantine_status = 'rejected' then 1 else 0 end) as rows_quarantined,
        sum(case when quarantine_status = 'held' then 1 else 0 end) as rows_held
    from quarantined
    group by _source_file
),

deliveries as (
    select
        landed_files.source_file,
        landed_files.entity,
        landed_files.delivery_date,
        landed_files.status as file_status,
        landed_files.message as file_message,
        landed_files.rows_delivered,
        cast(coalesce(base_rows.rows_valid, 0) as bigint) as rows_loaded,
        cast(coalesce(base_rows.rows_deleted, 0) as bigint) as rows_deleted,
        cast(
            case
                when landed_files.status = 'quarantined' then landed_files.rows_delivered
                else coalesce(quarantine_counts.rows_quarantined, 0)
            end as bigint
        ) as rows_quarantined,
        cast(coalesce(quarantine_counts.rows_held, 0) as bigint) as rows_held,
        cast(coalesce(base_rows.rows_in_raw, 0) as bigint) as rows_in_raw
    from landed_files
    left join base_rows
        on landed_files.source_file = base_rows._source_file
    left join quarantine_counts
        on landed_files.source_file = quarantine_counts._source_file
),

other_files as (
    select
        path as source_file,
        entity,
        delivery_date,
        status as file_status,
        reason as file_message,
        cast(null as bigint) as rows_delivered,
        cast(null as bigint) as rows_loaded,
        cast(null as bigint) as rows_deleted,
        cast(null as bigint) as rows_quarantined,
        cast(null as bigint) as rows_held,
        cast(null as bigint) as rows_in_raw
    from landing_findings
),

final as (
    select * from deliveries
    union all
    select * from other_files
)

select * from final
