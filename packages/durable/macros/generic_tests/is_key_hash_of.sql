{#- Passes when the column holds `durable.key_hash(key)` on every row: the lookups of
    packages/durable/macros/lookup/key_lookup.sql find a row by its stored hash only, so a missing or stale one would
    hide the row from them. -#}
{% test is_key_hash_of(model, column_name, key) %}
    select *
    from {{ model }}
    where {{ column_name }} is null or {{ column_name }} <> {{ durable.key_hash(key) }}
{% endtest %}
