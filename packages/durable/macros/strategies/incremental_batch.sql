{#
    The rows an incremental run recomputes, given the keys that changed in the window.

    - `relation`: a CTE or relation holding the current version of every key (a relation is
      looked up by its stored key hash, `rows_with_keys` in macros/key_lookup.sql);
    - `key`: its unique key; `changed`: a CTE or relation of the changed keys (column `key`);
    - `partition`: {'column': the model's partition column, 'expression': the same value
      computed on `relation`}, e.g. {'column': 'order_date', 'expression': 'order_date'}.

    A MERGE (hash_merge, delete+insert) needs only the changed keys. Spark's insert_overwrite
    replaces whole partitions, so there the batch is every row of each partition a changed key
    is in now or was in before (read from the target): a partition is rewritten complete.
#}
{% macro incremental_batch(relation, key, changed, partition) %}
    {{ return(adapter.dispatch('incremental_batch', 'durable')(relation, key, changed, partition)) }}
{% endmacro %}

{% macro default__incremental_batch(relation, key, changed, partition) -%}
    {{ durable.rows_with_keys(relation, key, changed) }}
{%- endmacro %}

{% macro spark__incremental_batch(relation, key, changed, partition) -%}
    select * from {{ relation }}
    where {{ partition.expression }} in (
        select {{ partition.expression }} from {{ relation }}
        where {{ key }} in (select {{ key }} from {{ changed }})
        union
        select {{ partition.column }} from {{ this }}
        where {{ key }} in (select {{ key }} from {{ changed }})
    )
{%- endmacro %}

