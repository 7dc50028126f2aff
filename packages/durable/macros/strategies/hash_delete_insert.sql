{#
    Incremental strategy `hash_delete_insert`: delete+insert on the unique key, the rows to
    replace found by the key's stored hash (`_<unique_key>_hash`, packages/durable/macros/lookup/key_lookup.sql) instead
    of by reading every key of the table. Engines without a DuckDB-style lookup run dbt's own
    delete+insert.
#}
{% macro get_incremental_hash_delete_insert_sql(arg_dict) %}
    {{ return(adapter.dispatch('hash_delete_insert_sql', 'durable')(arg_dict)) }}
{% endmacro %}

{% macro default__hash_delete_insert_sql(arg_dict) %}
    {{ return(get_incremental_delete_insert_sql(arg_dict)) }}
{% endmacro %}

{% macro duckdb__hash_delete_insert_sql(arg_dict) -%}
    {%- set target, source = arg_dict['target_relation'], arg_dict['temp_relation'] -%}
    {%- set key = arg_dict['unique_key'] -%}
    {%- set columns = arg_dict['dest_columns'] | map(attribute='name') | list -%}
    {%- if key is not string or durable.key_hash_column(key) not in columns | map('lower') | list -%}
        {{ exceptions.raise_compiler_error(
            "hash_delete_insert needs one unique_key and its hash in a " ~ durable.key_hash_column(key)
            ~ " column of " ~ target ~ " (see packages/durable/macros/lookup/key_lookup.sql)."
        ) }}
    {%- endif -%}
    delete from {{ target }}
    where {{ durable.has_key_in(target, key, source) }};

    insert into {{ target }} ({{ get_quoted_csv(columns) }})
    select {{ get_quoted_csv(columns) }} from {{ source }}
{%- endmacro %}
