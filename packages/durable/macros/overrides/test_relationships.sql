{#
    dbt's `relationships` test on DuckDB, for a parent that stores its key's hash
    (`_<field>_hash`, packages/durable/macros/lookup/key_lookup.sql): the parent rows of the child's keys are looked up
    by it, instead of reading every key of the parent (9M orders for the window's items). Only
    when the test audits a window (packages/durable/macros/overrides/audit_window.sql): a full audit looks every child key
    up, which a plain join does best. Anything else runs dbt's own test.
#}
{% macro duckdb__test_relationships(model, column_name, to, field) %}
    {%- set hashed = to is not string and durable.audit_window_predicate() | trim != 'true'
        and durable.stores_key_hash(to, field) -%}
    {%- if not hashed -%}
        {{ return(dbt.default__test_relationships(model, column_name, to, field)) }}
    {%- endif %}

with child as (
    select {{ column_name }} as from_field
    from {{ model }}
    where {{ column_name }} is not null
),

child_keys as (
    select distinct from_field as {{ field }} from child
),

parent as (
    select parent_rows.{{ field }} as to_field
    from ({{ durable.rows_with_keys(to, field, 'child_keys') }}) as parent_rows
)

select
    from_field

from child
left join parent
    on child.from_field = parent.to_field

where parent.to_field is null

{% endmacro %}
