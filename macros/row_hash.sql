{#
    A hash of a row's business columns. Incremental merges update a row only when its hash
    changed, so re-running a window writes nothing.
#}
{% macro row_hash(columns) %}
    {{ return(adapter.dispatch('row_hash', 'jaffle_shop')(columns)) }}
{% endmacro %}

{% macro default__row_hash(columns) -%}
    md5(
        {%- for column in columns %}
        coalesce(cast({{ column }} as {{ dbt.type_string() }}), '<null>')
        {%- if not loop.last %} || '|' ||{% endif %}
        {%- endfor %}
    )
{%- endmacro %}

{% macro spark__row_hash(columns) -%}
    md5(concat_ws('|',
        {%- for column in columns %}
        coalesce(cast({{ column }} as string), '<null>'){% if not loop.last %},{% endif %}
        {%- endfor %}
    ))
{%- endmacro %}
