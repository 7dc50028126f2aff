{#
    Row-level checks shared by the base models. Each returns a boolean SQL expression; the base
    model turns the first that holds into the row's `invalid_reason`, and the row is quarantined.
#}

{% macro is_conflicting_duplicate(key_columns, value_columns) -%}
    {#- The same key and updated_at twice in one delivery, with different values: neither can
        be trusted, so both are quarantined and the key keeps its previous version. -#}
    {%- set versions = key_columns + ['updated_at', '_source_file'] -%}
    min({{ row_hash(value_columns) }}) over (partition by {{ versions | join(', ') }})
    <> max({{ row_hash(value_columns) }}) over (partition by {{ versions | join(', ') }})
{%- endmacro %}


{% macro is_impossible_time(column) -%}
    {#- Before the shop opened, or after the delivery that brought it (a day of clock skew
        allowed): a date no real event can have. -#}
    ({{ column }} < cast('{{ var("shop_opened_on") }}' as timestamp)
    or {{ column }} >= {{ dbt.dateadd('day', 2, 'cast(_delivery_date as timestamp)') }})
{%- endmacro %}
