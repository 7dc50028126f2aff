{#
    Looking a few keys up in a table of every key ever seen: the window's orders among all
    orders, their items among all items.

    - `durable.key_hash(column)`: a bigint hash of a key, stored next to it (`_<key>_hash`) by the
      staging models. Stable across versions and machines (md5 on DuckDB and
      PostgreSQL, the engine's documented fingerprint elsewhere): a stored hash must match one
      computed a year later, or the lookup would miss the row.
    - `durable.rows_with_keys(relation, key, keys)`: the rows of `relation` whose `key` is in `keys` (a
      CTE or relation with a column named `key`). `relation` is a table (`ref`, `source`,
      `this`) with the key's hash stored, or the name of a CTE, filtered plainly. A query that
      joins the rows found to the same keys again computes the lookup in a CTE of its own,
      `as {{ durable.materialized_cte() if is_incremental() }} (` (packages/durable/macros/lookup/inline_cte.sql), or DuckDB
      scans the whole table.
    - `durable.has_key_in(relation, key, keys)`: the same as a condition on `relation`'s rows, for a
      DELETE (the `hash_delete_insert` strategy, packages/durable/macros/strategies/durable_merge.sql).
    - `durable.rowids_with_keys(relation, key, keys)`: the DuckDB rowids of those rows, found by the
      hash column alone; `durable.rowids_of_keys(relation, key, keys)` the same for a table
      without the hash (a fact), found by the key column alone;
      `durable.key_rowids(relation, key, keys)` picks between the two;
      `durable.key_hash_column(key)` names the hash column, `durable.stores_key_hash(relation, key)` says whether
      a table has it.

    Ids are random UUID text: a scan cannot skip blocks by their min/max, so `key in (...)`
    reads, decompresses and hashes every key of the history, and every other column of every
    row with it (0.8 s cold for the window's items among 14M, docs/BENCHMARKS.md). On DuckDB the
    lookup reads only the hash column to find the matching rows, then the whole rows of just the
    row groups holding them (the scan skips the others by rowid): 0.16 s. The keys themselves
    are compared on those rows, so a hash collision cannot bring a wrong row.
#}

{% macro key_hash(column) %}
    {{ return(adapter.dispatch('key_hash', 'durable')(column)) }}
{% endmacro %}

{% macro default__key_hash(column) -%}
    {{ exceptions.raise_compiler_error(
        "key_hash: no 64-bit hash for adapter '" ~ target.type ~ "'; add a "
        ~ target.type ~ "__key_hash macro (packages/durable/macros/lookup/key_lookup.sql)."
    ) }}
{%- endmacro %}

{% macro duckdb__key_hash(column) -%}
    {#- Not hash(): DuckDB does not promise its value across versions. 63 bits of md5: a signed
        bigint, the type every engine's hash has here (marts declare it in their contracts). -#}
    cast(md5_number({{ column }}) >> 65 as bigint)
{%- endmacro %}

{% macro postgres__key_hash(column) -%}
    ('x' || substr(md5({{ column }}), 1, 16))::bit(64)::bigint
{%- endmacro %}

{% macro spark__key_hash(column) -%}xxhash64({{ column }}){%- endmacro %}

{% macro snowflake__key_hash(column) -%}hash({{ column }}){%- endmacro %}

{% macro bigquery__key_hash(column) -%}farm_fingerprint({{ column }}){%- endmacro %}

{% macro trino__key_hash(column) -%}
    from_big_endian_64(xxhash64(to_utf8({{ column }})))
{%- endmacro %}


{% macro key_hash_column(key) %}{{ return('_' ~ key ~ '_hash') }}{% endmacro %}


{% macro stores_key_hash(relation, key) %}
    {#- A metadata query: for macros that serve tables with and without the hash. -#}
    {{ return(durable.has_column(relation, durable.key_hash_column(key))) }}
{% endmacro %}


{% macro rowids_with_keys(relation, key, keys) -%}
    select rowid from {{ relation }}
    where {{ durable.key_hash_column(key) }} in (select {{ durable.key_hash(key) }} from {{ keys }})
{%- endmacro %}


{% macro rowids_of_keys(relation, key, keys) -%}
    {#- The DuckDB rowids of `relation`'s rows whose `key` is in `keys`, for a table without the
        key's hash: the scan reads the key column alone, and a query that takes these rowids
        reads its other columns only from the row groups that hold them. -#}
    select rowid from {{ relation }}
    where {{ key }} in (select {{ key }} from {{ keys }})
{%- endmacro %}


{% macro key_rowids(relation, key, keys) -%}
    {#- The DuckDB rowids of `relation`'s rows whose `key` is in `keys`: by the stored hash where
        the table has it, else by the key column. -#}
    {%- if durable.stores_key_hash(relation, key) -%}
        {{ durable.rowids_with_keys(relation, key, keys) }}
    {%- else -%}
        {{ durable.rowids_of_keys(relation, key, keys) }}
    {%- endif -%}
{%- endmacro %}


{% macro rows_with_keys(relation, key, keys) -%}
    select * from {{ relation }}
    where {{ durable.has_key_in(relation, key, keys) }}
{%- endmacro %}


{% macro has_key_in(relation, key, keys) %}
    {{ return(adapter.dispatch('has_key_in', 'durable')(relation, key, keys)) }}
{% endmacro %}

{% macro default__has_key_in(relation, key, keys) -%}
    {{ key }} in (select {{ key }} from {{ keys }})
{%- endmacro %}

{% macro duckdb__has_key_in(relation, key, keys) -%}
    {%- if relation is string or model.resource_type == 'unit_test' -%}
        {#- A CTE, or a unit test's fixture rows (CTEs too): no rowid, no stored hash. -#}
        {{ durable.default__has_key_in(relation, key, keys) }}
    {%- else -%}
        rowid in ({{ durable.rowids_with_keys(relation, key, keys) }})
        and {{ key }} in (select {{ key }} from {{ keys }})
    {%- endif -%}
{%- endmacro %}
