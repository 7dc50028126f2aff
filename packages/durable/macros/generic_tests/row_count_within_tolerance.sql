{#-
    Passes when each day's row count (by `date_column`) is within `tolerance` (a fraction) of the
    count `days_before` earlier (1: the previous day; 7: the same weekday last week, for data with
    a weekly rhythm). A sudden drop or spike points at a lost or doubled delivery. Days compared
    with fewer than `min_rows` rows are not judged (a shop's first quiet days).
-#}
{% test row_count_within_tolerance(model, date_column, tolerance=0.5, days_before=1, min_rows=20) %}
    with daily as (
        select
            cast({{ date_column }} as date) as day,
            count(*) as row_count
        from {{ model }}
        group by cast({{ date_column }} as date)
    )

    select
        today.day,
        today.row_count,
        earlier.row_count as earlier_row_count
    from daily as today
    inner join daily as earlier
        on earlier.day = {{ dbt.dateadd('day', -1 * days_before, 'today.day') }}
    where
        earlier.row_count >= {{ min_rows }}
        and abs(today.row_count - earlier.row_count) > {{ tolerance }} * earlier.row_count
{% endtest %}
