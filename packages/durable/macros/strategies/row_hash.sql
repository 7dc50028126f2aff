{#
    A hash of a row's business columns. Incremental merges update a row only when its hash
    changed, so re-running a window writes nothing.
#}
{% macro row_hash(columns) %}
    {{ return(adapter.dispatch('row_hash', 'durable')(columns)) }}
{% endmacro %}

{% macro default__row_hash(columns) -%}
    md5(
        {%- for column in columns %}
        coalesce(cast({{ column }} as {{ dbt.type_string() }}), '<null>')
        {%- if not loop.last %} || '|' ||{% endif %}
        {%- endfor %}
    )
{%- endmacro %}

{% macro duckdb__row_hash(columns) -%}
    {#- DuckDB hashes the typed values themselves: ten times cheaper than md5 of their text
        (0.02 s against 0.2 s for 300k rows of fct_order_items), and with no separator to
        collide on. 64 bits: a change goes unseen with odds of 2^-64. A table hashed another
        way (md5 before this macro, or another DuckDB version's hash()) has the rows a run
        recomputes rewritten once, with the same values, and counted as changed. -#}
    cast(hash(
        {%- for column in columns %}
        {{ column }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    ) as {{ dbt.type_string() }})
{%- endmacro %}

{% macro spark__row_hash(columns) -%}
    md5(concat_ws('|',
        {%- for column in columns %}
        coalesce(cast({{ column }} as string), '<null>'){% if not loop.last %},{% endif %}
        {%- endfor %}
    ))
{%- endmacro %}
