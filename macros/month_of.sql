{#- The first day of the month `column` (a date or timestamp) falls in, as a date on every engine
    (date_trunc returns a timestamp on PostgreSQL and Spark). -#}
{% macro month_of(column) -%}
    cast({{ dbt.date_trunc('month', column) }} as date)
{%- endmacro %}
