{#-
    Functions the project's SQL needs and the engine lacks, created by an on-run-start hook in the
    target schema (so an audit schema carries its own, and a published schema keeps them).
    Most engines need none.
-#}
{% macro create_udfs() %}
    {{ return(adapter.dispatch('create_udfs', 'durable')()) }}
{% endmacro %}

{% macro default__create_udfs() -%}
    {#- Nothing to create: an empty hook runs no SQL. -#}
{%- endmacro %}

{% macro postgres__create_udfs() -%}
    {#- PostgreSQL 15 has no try_cast: a cast that returns null when the text is not a timestamp
        (e.g. 2018-02-30, which a pattern cannot rule out). See postgres__try_cast_as. -#}
    create schema if not exists {{ adapter.quote(target.schema) }};
    create or replace function {{ adapter.quote(target.schema) }}.durable_try_timestamp(value text)
    returns timestamp
    language plpgsql immutable parallel safe
    as $$
    begin
        return value::timestamp;
    exception when others then
        return null;
    end;
    $$
{%- endmacro %}
