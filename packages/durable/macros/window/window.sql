{#
    The window of event time one run processes: [start_date - lookback_days, end_date], inclusive
    dates, from the vars `start_date`, `end_date` and `lookback_days`.

    `durable.in_window(column)` is the predicate incremental models filter on. With no window vars (a plain
    `dbt build`), it takes everything newer than the target holds, minus the lookback.
#}

{% macro window_vars() %}
    {#- Parsed window vars, or none when no window was given; raises on bad vars. -#}
    {%- set start_raw = var('start_date', none) -%}
    {%- set end_raw = var('end_date', none) -%}
    {%- set lookback_raw = var('lookback_days', 3) -%}

    {%- set lookback = lookback_raw | string -%}
    {%- if not lookback.isdigit() -%}
        {{ exceptions.raise_compiler_error(
            "Invalid var lookback_days=" ~ lookback_raw ~ ": expected a whole number of days >= 0."
        ) }}
    {%- endif -%}

    {%- if start_raw is none and end_raw is none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set start_text = (start_raw if start_raw is not none else end_raw) | string -%}
    {%- set end_text = (end_raw if end_raw is not none else start_raw) | string -%}

    {%- set parsed = {} -%}
    {%- for name, text in [('start_date', start_text), ('end_date', end_text)] -%}
        {%- do parsed.update({name: durable.date_var_value(name, text)}) -%}
    {%- endfor -%}

    {%- if parsed['end_date'] < parsed['start_date'] -%}
        {{ exceptions.raise_compiler_error(
            "Invalid window: end_date=" ~ parsed['end_date'] ~ " is before start_date="
            ~ parsed['start_date'] ~ "."
        ) }}
    {%- endif -%}

    {%- set lookback_start = parsed['start_date'] - modules.datetime.timedelta(days=lookback | int) -%}
    {%- set end_exclusive = parsed['end_date'] + modules.datetime.timedelta(days=1) -%}
    {{ return({
        'start_date': parsed['start_date'],
        'end_date': parsed['end_date'],
        'lookback_days': lookback | int,
        'from': lookback_start.isoformat(),
        'delivered_from': (lookback_start - modules.datetime.timedelta(days=2)).isoformat(),
        'to_exclusive': end_exclusive.isoformat(),
    }) }}
{% endmacro %}


{% macro date_var_value(name, text) %}
    {#- The date a var names as YYYY-MM-DD; a compile error naming the var otherwise, so no
        var's text ever reaches SQL unchecked. -#}
    {%- set text = text | string -%}
    {%- set value = none -%}
    {%- set match = modules.re.match('^([0-9]{4})-([0-9]{2})-([0-9]{2})$', text) -%}
    {%- if match -%}
        {#- Jinja cannot catch exceptions: check the day exists before building the date. -#}
        {%- set year, month, day = match.group(1) | int, match.group(2) | int, match.group(3) | int -%}
        {%- if 1 <= month <= 12 and 1 <= day <= 31 -%}
            {%- set first = modules.datetime.date(year, month, 1) -%}
            {%- set candidate = first + modules.datetime.timedelta(days=day - 1) -%}
            {%- if candidate.month == month -%}
                {%- set value = candidate -%}
            {%- endif -%}
        {%- endif -%}
    {%- endif -%}
    {%- if value is none -%}
        {{ exceptions.raise_compiler_error(
            "Invalid var " ~ name ~ "=" ~ text ~ ": expected a date as YYYY-MM-DD."
        ) }}
    {%- endif -%}
    {{ return(value) }}
{% endmacro %}


{% macro earliest_event_date() %}
    {#- The var `earliest_event_date`, checked: the first day a real event can have. -#}
    {{ return(durable.date_var_value('earliest_event_date', var('earliest_event_date', '1900-01-01')).isoformat()) }}
{% endmacro %}


{% macro assert_valid_window() %}
    {#- on-run-start: fail before any SQL runs when the window vars (or any other var that
        reaches SQL) are bad. -#}
    {%- do durable.window_vars() -%}
    {%- do durable.earliest_event_date() -%}
    {{ return('') }}
{% endmacro %}


{% macro in_window(column) %}
    {%- set window = durable.window_vars() -%}
    {%- if window is not none -%}
        {{ column }} >= cast('{{ window["from"] }}' as timestamp)
        and {{ column }} < cast('{{ window["to_exclusive"] }}' as timestamp)
    {%- else -%}
        {{ column }} >= {{ dbt.dateadd(
            'day',
            -1 * durable.window_lookback_days(),
            '(select max(' ~ column ~ ') from ' ~ this ~ ')',
        ) }}
    {%- endif -%}
{% endmacro %}


{% macro changed_in_window(updated_at, delivered_on) %}
    {#-
        A row belongs to the run when it changed in the window (event time) or when it arrived
        in one of the window's deliveries, however late: a row delivered days after the change
        it describes is still processed by the window that loads it.
    -#}
    {%- set window = durable.window_vars() %}
    (
        ({{ durable.in_window(updated_at) }} or {{ durable.in_window(delivered_on) }})
        {%- if window is not none %}
        {#- The same rows, said so a scan can skip blocks by their delivery dates: a valid row
            changed less than two days after the delivery that brought it (is_impossible_time),
            so one that changed in the window was delivered at most two days before it starts. #}
        and {{ delivered_on }} >= cast('{{ window["delivered_from"] }}' as date)
        {%- endif %}
    )
{% endmacro %}


{% macro window_lookback_days() %}
    {{ return(var('lookback_days', 3) | int) }}
{% endmacro %}


{% macro delivered_in_window(column) %}
    {#- Rows delivered in the window, lookback included (`column` is a delivery date); every row
        when the run has no window. -#}
    {%- set window = durable.window_vars() -%}
    {%- if window is none -%}
        true
    {%- else -%}
        {{ column }} >= cast('{{ window["from"] }}' as date)
    {%- endif -%}
{% endmacro %}
