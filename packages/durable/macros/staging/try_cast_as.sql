{#
    Cast a text value, giving null instead of an error when it does not parse, so a malformed
    value marks its row for quarantine rather than failing the model.
#}
{% macro try_cast_as(expression, data_type) %}
    {{ return(adapter.dispatch('try_cast_as', 'durable')(expression, data_type)) }}
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

{% macro postgres__try_cast_as(expression, data_type) -%}
    {#-
        PostgreSQL 15 has no try_cast. Numbers and booleans are guarded by their pattern (and
        numeric(p, s) by its range), so the cast after the guard cannot fail; timestamps must look
        like an ISO date and time (PostgreSQL alone would also read '01/02/2018', 'now' or
        'epoch') and then go through durable_try_timestamp (macros/create_udfs.sql), which turns
        an impossible day such as 2018-02-30 into null.
    -#}
    {%- set type = data_type | lower | replace(' ', '') -%}
    {%- set value = 'trim(' ~ expression ~ ')' -%}
    {%- set numeric = modules.re.match('^(?:numeric|decimal)[(]([0-9]+),([0-9]+)[)]$', type) -%}
    {%- if type in ('bigint', 'integer', 'int', 'smallint') -%}
        {%- set digits = {'bigint': 18, 'integer': 9, 'int': 9, 'smallint': 4}[type] -%}
        case
            when {{ value }} ~ '^[+-]?[0-9]{1,{{ digits }}}$'
                then cast({{ value }} as {{ data_type }})
        end
    {%- elif numeric or type in ('numeric', 'decimal', 'double', 'doubleprecision', 'real') -%}
        case
            when {{ value }} ~ '^[+-]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][+-]?[0-9]{1,3})?$'
            {%- if numeric %}
                and abs(round(cast({{ value }} as numeric), {{ numeric.group(2) }}))
                    < 10 ^ {{ numeric.group(1) | int - numeric.group(2) | int }}
            {%- endif %}
                then cast({{ value }} as {{ data_type }})
        end
    {%- elif type == 'boolean' -%}
        case lower({{ value }})
            when 'true' then true
            when 'false' then false
        end
    {%- elif type == 'timestamp' -%}
        case
            when {{ value }}
                ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}([ T][0-9]{2}:[0-9]{2}(:[0-9]{2}([.][0-9]{1,6})?)?)?$'
                then {{ adapter.quote(target.schema) }}.durable_try_timestamp({{ value }})
        end
    {%- elif type == 'date' -%}
        case
            when {{ value }} ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$'
                then cast({{ adapter.quote(target.schema) }}.durable_try_timestamp({{ value }}) as date)
        end
    {%- else -%}
        {{ exceptions.raise_compiler_error(
            "try_cast_as: no safe cast to " ~ data_type ~ " on PostgreSQL (packages/durable/macros/staging/try_cast_as.sql)"
        ) }}
    {%- endif -%}
{%- endmacro %}

{% macro spark__try_cast_as(expression, data_type) -%}
    {%- if data_type | lower in ('bigint', 'integer', 'int') -%}
        {#- try_cast('12.50' as bigint) truncates to 12: whole numbers must look whole. -#}
        case
            when trim({{ expression }}) rlike '^[+-]?[0-9]+$'
                then try_cast(trim({{ expression }}) as {{ data_type }})
        end
    {%- else -%}
        try_cast({{ expression }} as {{ data_type }})
    {%- endif -%}
{%- endmacro %}
