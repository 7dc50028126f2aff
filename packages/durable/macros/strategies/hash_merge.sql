{#
    Incremental strategy `hash_merge`: an upsert on the model's unique key that touches a matched
    row only when its `row_hash` differs, so re-running a window changes no row (and reports 0 rows
    affected), and inserts new keys. Configure with
        incremental_strategy='hash_merge', unique_key=..., and a `row_hash` column in the model.

    dbt looks the strategy up as `get_incremental_hash_merge_sql`; the SQL itself is dispatched so
    each engine can use its own MERGE dialect. The default is ANSI MERGE (PostgreSQL 15+,
    Snowflake, BigQuery, Trino, DuckDB).
#}
{% macro get_incremental_hash_merge_sql(arg_dict) %}
    {{ return(adapter.dispatch('hash_merge_sql', 'durable')(
        arg_dict['target_relation'],
        arg_dict['temp_relation'],
        arg_dict['unique_key'],
        arg_dict['dest_columns'],
        arg_dict.get('incremental_predicates'),
    )) }}
{% endmacro %}

{% macro default__hash_merge_sql(target, source, unique_key, dest_columns, incremental_predicates) -%}
    {%- set keys = [unique_key] if unique_key is string else unique_key -%}
    {%- set columns = dest_columns | map(attribute='name') | map('lower') | list -%}
    {%- if 'row_hash' not in columns -%}
        {{ exceptions.raise_compiler_error(
            "hash_merge needs a row_hash column in " ~ target ~ " (see macros/row_hash.sql)."
        ) }}
    {%- endif -%}
    {%- set quoted = dest_columns | map(attribute='quoted') | list -%}
    {%- set conditions = [] -%}
    {%- for key in keys -%}
        {%- do conditions.append('target_rows.' ~ key ~ ' = source_rows.' ~ key) -%}
    {%- endfor -%}
    {%- for predicate in (incremental_predicates or []) -%}
        {%- do conditions.append(predicate) -%}
    {%- endfor -%}

    merge into {{ target }} as target_rows
    using {{ source }} as source_rows
    on {{ conditions | join(' and ') }}
    when matched and target_rows.row_hash <> source_rows.row_hash then update set
        {%- for column in quoted if column | lower | replace('"', '') not in keys %}
        {{ column }} = source_rows.{{ column }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    when not matched then insert ({{ quoted | join(', ') }})
    values (
        {%- for column in quoted %}
        source_rows.{{ column }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    )
{%- endmacro %}

{% macro duckdb__hash_merge_sql(target, source, unique_key, dest_columns, incremental_predicates) -%}
    {#- DuckDB takes the ANSI statement; BY NAME saves listing every column twice. A target that
        stores its key's hash (`_<key>_hash`, macros/key_lookup.sql) has its rows matched in the
        row groups that hold the source's keys only, instead of reading every key it has. -#}
    {%- set keys = [unique_key] if unique_key is string else unique_key -%}
    {%- set columns = dest_columns | map(attribute='name') | map('lower') | list -%}
    {%- set conditions = [] -%}
    {%- for key in keys -%}
        {%- do conditions.append('target_rows.' ~ key ~ ' = source_rows.' ~ key) -%}
    {%- endfor -%}
    {%- if keys | length == 1 and durable.key_hash_column(keys[0]) in columns -%}
        {%- do conditions.append(
            'target_rows.rowid in (' ~ durable.rowids_with_keys(target, keys[0], source) ~ ')'
        ) -%}
    {%- endif -%}
    {%- for predicate in (incremental_predicates or []) -%}
        {%- do conditions.append(predicate) -%}
    {%- endfor -%}

    merge into {{ target }} as target_rows
    using {{ source }} as source_rows
    on {{ conditions | join(' and ') }}
    when matched and target_rows.row_hash <> source_rows.row_hash then update by name
    when not matched then insert by name
{%- endmacro %}


{#
    Incremental strategy `hash_delete_insert`: delete+insert on the unique key, the rows to
    replace found by the key's stored hash (`_<unique_key>_hash`, macros/key_lookup.sql) instead
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
            ~ " column of " ~ target ~ " (see macros/key_lookup.sql)."
        ) }}
    {%- endif -%}
    delete from {{ target }}
    where {{ durable.has_key_in(target, key, source) }};

    insert into {{ target }} ({{ get_quoted_csv(columns) }})
    select {{ get_quoted_csv(columns) }} from {{ source }}
{%- endmacro %}
