{#- Money in the marts is dollars with two decimals; sources deliver integer cents. -#}
{% macro cents_to_dollars(column_name) %}
    {{ return(adapter.dispatch('cents_to_dollars', 'jaffle_shop')(column_name)) }}
{% endmacro %}

{% macro default__cents_to_dollars(column_name) -%}
    cast({{ column_name }} / 100.0 as numeric(16, 2))
{%- endmacro %}

{% macro postgres__cents_to_dollars(column_name) -%}
    ({{ column_name }}::numeric / 100)::numeric(16, 2)
{%- endmacro %}
