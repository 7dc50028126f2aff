{#
    What a daily audit tests: the rows of the run's window, not the whole history again.

    Every data test carries `where: "__audit_window__"` (dbt_project.yml). On a model that names
    its `audit_window_column` in `meta` (the delivery date of each row), a run with window vars
    tests only rows delivered in the window (lookback included), which are all the rows the run
    could insert or change. Everything else (a plain `dbt build`, a `--full-refresh`, the var
    `audit: all`, models without the meta) tests every row. The placeholder can be combined with
    a test's own condition: `where: "__audit_window__ and status = 'placed'"`.

    Keys stay unique across the history by construction: incremental models replace rows by
    their unique key (delete+insert, MERGE), so a key delivered in the window replaces, never
    duplicates, its earlier row; `dbt build --full-refresh` re-proves everything.

    dbt renders `where` before macros are available, hence the placeholder replaced here, in
    dbt's documented hook for it.
#}

{% macro default__get_where_subquery(relation) -%}
    {%- set where = config.get('where') or '' -%}
    {%- if '__audit_window__' in where -%}
        {%- set where = where | replace('__audit_window__', durable.audit_window_predicate()) -%}
    {%- endif -%}
    {%- if where and where | trim != 'true' -%}
        {%- set filtered -%}
            (select * from {{ relation }} where {{ where }}) dbt_subquery
        {%- endset -%}
        {{ return(filtered) }}
    {%- else -%}
        {{ return(relation) }}
    {%- endif -%}
{%- endmacro %}


{% macro audit_window_predicate() -%}
    {#- `true` unless this test's model declares a window column and the run has a window. -#}
    {%- set column = durable.audit_window_column() -%}
    {%- set scope = var('audit', 'window') -%}
    {%- if scope not in ['window', 'all'] -%}
        {{ exceptions.raise_compiler_error("Invalid var audit=" ~ scope ~ ": expected window or all.") }}
    {%- endif -%}
    {%- if column is none or scope == 'all' or flags.FULL_REFRESH -%}
        true
    {%- else -%}
        {{ durable.delivered_in_window(column) }}
    {%- endif -%}
{%- endmacro %}


{% macro audit_window_column() -%}
    {#- The `meta.audit_window_column` of the model (or snapshot) this test is attached to. -#}
    {%- set attached = model.get('attached_node') if model is mapping else none -%}
    {%- if attached and attached in graph.nodes -%}
        {{ return((graph.nodes[attached].config.meta or {}).get('audit_window_column')) }}
    {%- endif -%}
    {{ return(none) }}
{%- endmacro %}
