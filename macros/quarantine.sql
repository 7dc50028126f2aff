{#
    quarantined_rows is maintained per window, like the marts, instead of re-reading every
    delivered row each run (docs/BENCHMARKS.md):

    - `quarantine_scope(column)`: the rows a run recomputes, those delivered in its window
      (lookback included); every row on a first run, a full refresh or a run without a window;
    - `clear_quarantine_scope()`: the pre-hook that removes them first, and the held items the
      window settles: their order arrived, or a new version of the item did. The model then
      appends the window's rows, so re-running a window gives the same table.
#}

{% macro quarantine_scope(column) -%}
    {%- if is_incremental() -%}
        {{ delivered_in_window(column) }}
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}


{% macro clear_quarantine_scope() -%}
    {%- if is_incremental() -%}
        delete from {{ this }}
        where
            {{ quarantine_scope('_delivery_date') }}
            or (
                quarantine_status = 'held'
                and (
                    awaited_key in (
                        select order_id from {{ ref('stg_jaffle__orders') }}
                        where {{ quarantine_scope('_delivery_date') }}
                    )
                    or row_key in (
                        select order_item_id from {{ ref('stg_jaffle__items') }}
                        where {{ quarantine_scope('_delivery_date') }}
                    )
                )
            )
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}
