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
    {%- if data_type | lower in ('bigint', 'integer', 'int') -%}
        {#- try_cast('12.50' as bigint) rounds to 13: whole numbers must look whole. -#}
        case
            when regexp_full_match(trim({{ expression }}), '[+-]?[0-9]+')
                then try_cast(trim({{ expression }}) as {{ data_type }})
        end
    {%- else -%}
        try_cast({{ expression }} as {{ data_type }})
    {%- endif -%}
{%- endmacro %}

{% macro spark__try_cast_as(expression, data_type) -%}
    try_cast({{ expression }} as {{ data_type }})
{%- endmacro %}
