{#
    Row-level checks of the base models (base_model.sql). Each `is_...` macro returns a boolean
    SQL expression; the base model turns the first that holds into the row's `invalid_reason`,
    and the row is quarantined. `conflicting_duplicates` is the query behind `is_conflicting_duplicate`.
#}

{#
    Conflicting duplicates: the same key and event time twice in one delivery, with different
    values. Neither can be trusted, so every row of that version is quarantined and the key keeps
    its previous version. A base model finds them in a CTE named `conflicting_duplicates`:

        conflicting_duplicates as (
            {{ durable.conflicting_duplicates('typed', ['order_id'], ['customer_id', ...]) }}
        ),
        checked as (
            select *, case ... when {{ durable.is_conflicting_duplicate(['order_id']) }} ... end
            from typed
        )

    It groups only the versions delivered more than once (found by one hash of each row's
    version) instead of a window over every row: DuckDB sorted every delivered row, all its
    columns, to partition them. On the 20M delivered orders of the benchmark's history, alone:
    34 s against 107 s to build the orders' base model, 29 s with no check at all.
#}

{% macro delivered_version(key_columns, event_time=none) -%}
    {#- What identifies one delivered version of a key: the key, its event time (by default the
        one the model's source declares: durable.event_time_of), its file. -#}
    {{ return(key_columns + [event_time or durable.event_time_of(), '_source_file']) }}
{%- endmacro %}


{% macro conflicting_duplicates(relation, key_columns, value_columns, event_time=none) -%}
    {#- The conflicting versions of `relation`, as durable.delivered_version(...) columns. -#}
    {%- set version = durable.delivered_version(
        key_columns, event_time or durable.event_time_of(relation)
    ) -%}
    select {{ version | join(', ') }} from {{ relation }}
    where {{ durable.row_hash(version) }} in (
        select {{ durable.row_hash(version) }} from {{ relation }}
        group by 1
        having count(*) > 1
    )
    group by {{ version | join(', ') }}
    having min({{ durable.row_hash(value_columns) }}) <> max({{ durable.row_hash(value_columns) }})
{%- endmacro %}


{% macro is_conflicting_duplicate(key_columns, event_time=none) -%}
    ({{ durable.delivered_version(key_columns, event_time) | join(', ') }}) in (
        select * from conflicting_duplicates
    )
{%- endmacro %}


{% macro is_impossible_time(column) -%}
    {#- Before the var `earliest_event_date` (when the source system started), or after the
        delivery that brought it (a day of clock skew allowed): a date no real event can have. -#}
    ({{ column }} < cast('{{ durable.earliest_event_date() }}' as timestamp)
    or {{ column }} >= {{ dbt.dateadd('day', 2, 'cast(_delivery_date as timestamp)') }})
{%- endmacro %}
