{#
    Cast a text value, giving null instead of an error when it does not parse, so a malformed
    value marks its row for quarantine rather than failing the model.
#}
{% macro try_cast_as(expression, data_type) %}
    {{ return(adapter.dispatch('try_cast_as', 'jaffle_shop')(expression, data_type)) }}
{% endmacro %}

{% macro default__try_cast_as(expression, data_type) -%}
    {#- Engines without a safe cast: the ANSI cast, which errors on bad input. -#}
    cast({{ expression }} as {{ data_type }})
{%- endmacro %}

{% macro duckdb__try_cast_as(expression, data_type) -%}
    try_cast({{ expression }} as {{ data_type }})
{%- endmacro %}

{% macro spark__try_cast_as(expression, data_type) -%}
    try_cast({{ expression }} as {{ data_type }})
{%- endmacro %}
