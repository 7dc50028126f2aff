{#
    quarantined_rows is maintained per window, like the marts, instead of re-reading every
    delivered row each run (docs/BENCHMARKS.md):

    - `durable.quarantine_scope(column)`: the rows a run recomputes, those delivered in its window
      (lookback included); every row on a first run, a full refresh or a run without a window;
    - `durable.clear_quarantine_scope(held_rows)`: the pre-hook that removes them first, and the
      held rows the window settles: the row they await arrived, or a new version of them did,
      or their key's row changed otherwise (its before images: a newer version withdrawn).
      The model then appends the window's rows, so re-running a window gives the same table.
#}

{% macro quarantine_scope(column) -%}
    {%- if is_incremental() -%}
        {{ durable.delivered_in_window(column) }}
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}


{% macro clear_quarantine_scope(held_rows=[]) -%}
    {#- `held_rows`: what `durable.held_rows()` returns: a held row is settled when the row it
        awaits, or a new version of it, is delivered. -#}
    {%- if is_incremental() -%}
        delete from {{ this }}
        where
            {{ durable.quarantine_scope('_delivery_date') }}
            {%- for held in held_rows %}
            or (
                quarantine_status = 'held'
                and entity = '{{ held.entity }}'
                and (
                    awaited_key in (
                        select {{ held.field }} from {{ held.awaits }}
                        where {{ durable.quarantine_scope('_delivery_date') }}
                    )
                    or row_key in (
                        select {{ held.key }} from {{ held.relation }}
                        where {{ durable.quarantine_scope('_delivery_date') }}
                    )
                    {%- if held.images %}
                    or row_key in (select {{ held.key }} from {{ held.images }})
                    {%- endif %}
                )
            )
            {%- endfor %}
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}
