{#
    `durable.changed_rows(ref('stg_orders'))`: the rows of a model an incremental run recomputes,
    as an import CTE. The model then joins and selects as it would on the whole table: a full
    refresh (or the first run) gets every row, so both give the same table.

    - A row changed in the window when its event time (`event_time`: by default the one the
      relation declares, `durable.event_time_of`, else `updated_at`) falls in it or when it
      arrived in one of the window's deliveries (`delivered_on`), however late
      (`durable.changed_in_window`). The `also_when` relations are read with the same column.
    - `also_when={'order_id': ref('stg_items')}`: also the rows whose `order_id` is the
      `order_id` of a row of that relation that changed in the window (an order whose item
      arrived late; an item whose order changed).
    - `whole='order_date'`: every row that shares this column (or expression) with a changed
      row, for a model that recomputes whole groups (a day, a month) and replaces them
      (delete+insert on that column).
#}
{% macro changed_rows(
    relation, also_when={}, whole=none, event_time=none, delivered_on='_delivery_date'
) %}
    {{ return(adapter.dispatch('changed_rows', 'durable')(
        relation, also_when, whole, event_time or durable.event_time_of(relation), delivered_on
    )) }}
{% endmacro %}

{% macro default__changed_rows(relation, also_when, whole, event_time, delivered_on) -%}
    {%- set changed = durable.changed_in_window(event_time, delivered_on) -%}
    {%- if not is_incremental() -%}
        select * from {{ relation }}
    {%- elif whole is not none -%}
        {#- The lower bound lets a scan skip the blocks before the first changed group: tables
            are written in time order, so old groups sit in old blocks. -#}
        select * from {{ relation }}
        where
            {{ whole }} >= (select min({{ whole }}) from {{ relation }} where {{ changed }})
            and {{ whole }} in (select {{ whole }} from {{ relation }} where {{ changed }})
    {%- else -%}
        select * from {{ relation }}
        where {{ changed }}
        {%- for column, parent in also_when.items() %}
        union
        select * from {{ relation }}
        where {{ column }} in (select {{ column }} from {{ parent }} where {{ changed }})
        {%- endfor %}
    {%- endif -%}
{%- endmacro %}

{% macro spark__changed_rows(relation, also_when, whole, event_time, delivered_on) -%}
    {#- One scan with OR: Spark (4.x, local) fails to ship a UNION whose branches filter on an
        IN-subquery to its executors (ClassCastException on UnionExec.children). -#}
    {%- if not is_incremental() or whole is not none or not also_when -%}
        {{ durable.default__changed_rows(relation, also_when, whole, event_time, delivered_on) }}
    {%- else -%}
        {%- set changed = durable.changed_in_window(event_time, delivered_on) -%}
        select * from {{ relation }}
        where {{ changed }}
        {%- for column, parent in also_when.items() %}
            or {{ column }} in (select {{ column }} from {{ parent }} where {{ changed }})
        {%- endfor %}
    {%- endif -%}
{%- endmacro %}
