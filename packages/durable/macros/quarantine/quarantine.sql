{#
    quarantined_rows is maintained per window, like the marts, instead of re-reading every
    delivered row each run (docs/BENCHMARKS.md):

    - `durable.quarantine_scope(column)`: the rows a run recomputes, those delivered in its window
      (lookback included); every row on a first run, a full refresh or a run without a window;
    - `durable.clear_quarantine_scope()`: the pre-hook that removes them first, and the held items the
      window settles: their order arrived, or a new version of the item did. The model then
      appends the window's rows, so re-running a window gives the same table.
#}

{% macro quarantine_scope(column) -%}
    {%- if is_incremental() -%}
        {{ durable.delivered_in_window(column) }}
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}


{% macro clear_quarantine_scope(awaited=none, held=none) -%}
    {#- `awaited`, `held`: (relation, key) of the rows held rows wait for and of the held rows
        themselves, e.g. (ref('stg_orders'), 'order_id') and (ref('stg_items'), 'item_id'):
        a held row is settled when the row it awaits, or a new version of it, is delivered. -#}
    {%- if is_incremental() -%}
        delete from {{ this }}
        where
            {{ durable.quarantine_scope('_delivery_date') }}
            {%- if awaited is not none and held is not none %}
            or (
                quarantine_status = 'held'
                and (
                    awaited_key in (
                        select {{ awaited[1] }} from {{ awaited[0] }}
                        where {{ durable.quarantine_scope('_delivery_date') }}
                    )
                    or row_key in (
                        select {{ held[1] }} from {{ held[0] }}
                        where {{ durable.quarantine_scope('_delivery_date') }}
                    )
                )
            )
            {%- endif %}
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}
