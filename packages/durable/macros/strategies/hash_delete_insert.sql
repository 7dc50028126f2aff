{#
    Incremental strategy `hash_delete_insert`: delete+insert on the unique key, the rows to
    replace found by the key's stored hash (`_<unique_key>_hash`, packages/durable/macros/lookup/key_lookup.sql) instead
    of by reading every key of the table; a table without the hash column, or an engine
    without a DuckDB-style lookup, matches the keys themselves.

    - The old version of every row replaced by a different one is kept as a before image
      (window/before_images.sql), for the models downstream.
    - A row of the model's output whose `_deleted` is true (a key whose newest version is a
      delete, `durable.latest_version(..., deletes=true)`) replaces the key's row and is not
      inserted: the key leaves the table.
#}
{% macro get_incremental_hash_delete_insert_sql(arg_dict) %}
    {{ return(adapter.dispatch('hash_delete_insert_sql', 'durable')(arg_dict)) }}
{% endmacro %}

{% macro default__hash_delete_insert_sql(arg_dict) -%}
    {%- set target, source = arg_dict['target_relation'], arg_dict['temp_relation'] -%}
    {%- set key = arg_dict['unique_key'] -%}
    {%- set columns = arg_dict['dest_columns'] | map(attribute='name') | list -%}
    {%- set quoted = get_quoted_csv(columns) -%}
    {%- set deletes = durable.deleted_marker_column() in columns | map('lower') | list -%}
    {%- set old_rows -%}
        select {{ quoted }} from {{ target }}
        where {{ durable.key_in(target, key, source) }}
        except
        select {{ quoted }} from {{ source }}
    {%- endset %}
    {{ durable.record_before_images(target, columns | map('lower') | list, old_rows) }}

    delete from {{ target }}
    where {{ durable.key_in(target, key, source) }};

    insert into {{ target }} ({{ quoted }})
    select {{ quoted }} from {{ source }}
    {%- if deletes %}
    where not coalesce({{ durable.deleted_marker_column() }}, false)
    {%- endif %}
{%- endmacro %}
