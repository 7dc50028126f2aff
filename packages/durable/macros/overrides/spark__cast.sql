{#-
    Spark 4 rejects a bare `varchar` (it wants a length); the contracts declare `varchar`, the
    type every other engine spells that way. dbt builds a contract's empty schema with `cast`, so
    on Spark `varchar` (with or without a length) becomes `string`, Spark's text type.
-#}
{% macro spark__cast(field, type) -%}
    {%- set spark_type = 'string' if (type | lower | trim).startswith('varchar') else type -%}
    cast({{ field }} as {{ spark_type }})
{%- endmacro %}
