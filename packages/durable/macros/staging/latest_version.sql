{#
    Keep the latest version of each key: the newest event time, and among equal timestamps the
    last delivered (delivery date, then row number in the file). Used by every staging model.
    The event time is the one the relation declares (for a CTE, the model's own source):
    `durable.event_time_of`, `updated_at` when none is declared.

    `deletes=true`: the versions carry `_deleted` (true for a delete the source sent, see
    `durable.base_model`), and a key whose latest version is a delete has no row. An
    incremental run keeps that version as the key's row, so its strategy (`hash_delete_insert`)
    removes the key from the table; a full build leaves it out.
#}
{% macro latest_version(relation, key_columns, order_by=none, deletes=false) %}
    {%- set order_by = order_by
        or durable.event_time_of(relation) ~ ' desc, _delivery_date desc, _row_number desc' -%}
    {%- set latest = adapter.dispatch('latest_version', 'durable')(relation, key_columns, order_by) -%}
    {%- if deletes and not is_incremental() -%}
        {{ return('select * from (' ~ latest ~ ') as latest_versions where not coalesce('
            ~ durable.deleted_marker_column() ~ ', false)') }}
    {%- endif -%}
    {{ return(latest) }}
{% endmacro %}

{% macro default__latest_version(relation, key_columns, order_by) -%}
    select * from (
        select
            *,
            row_number() over (
                partition by {{ key_columns | join(', ') }}
                order by {{ order_by }}
            ) as _version_rank
        from {{ relation }}
    ) as ranked
    where _version_rank = 1
{%- endmacro %}

{% macro duckdb__latest_version(relation, key_columns, order_by) -%}
    {#- DuckDB filters on a window with qualify: no subquery, no rank column to carry. -#}
    select * from {{ relation }}
    qualify row_number() over (
        partition by {{ key_columns | join(', ') }}
        order by {{ order_by }}
    ) = 1
{%- endmacro %}


{% macro deleted_marker_column() %}{{ return('_deleted') }}{% endmacro %}
