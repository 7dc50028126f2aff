{#-
    Passes when the newest value of `column_name` is at most `max_age_days` before the reference
    day: the window's end_date when the run has a window, else today. A pipeline replaying 2018
    measures recency against the day it processes, not the wall clock.
-#}
{% test recency(model, column_name, max_age_days) %}
    {%- set window = durable.window_vars() -%}
    {%- if window is not none -%}
        {%- set reference = "cast('" ~ window['end_date'] ~ "' as date)" -%}
    {%- else -%}
        {%- set reference = 'current_date' -%}
    {%- endif -%}
    select max_value
    from (select max({{ column_name }}) as max_value from {{ model }}) as newest
    where
        max_value is null
        or cast(max_value as date) < {{ dbt.dateadd('day', -1 * max_age_days, reference) }}
{% endtest %}
