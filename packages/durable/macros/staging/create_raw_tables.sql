{#
    on-run-start: create the raw tables of every landed source (a source with `meta.durable`)
    and the loader's ledger tables (this package's `durable` source), empty, when they do not
    exist yet, so `dbt build` works from a fresh clone before anything was delivered. The loader
    (durable/landing/ and durable/engines/) creates the same tables (every declared column as text, plus lineage)
    before it loads; whichever runs first wins, and neither touches an existing table.
#}
{% macro create_raw_tables() %}
    {%- if not execute -%}{{ return('') }}{%- endif -%}
    {#- Spark runs one statement per call, and its loader (durable/engines/spark/) creates the raw
        tables itself, partitioned by landing file. -#}
    {%- if target.type == 'spark' -%}{{ return('') }}{%- endif -%}
    {%- set text = dbt.type_string() -%}
    {%- set statements = [] -%}
    {%- set schemas = [] -%}
    {%- for source in graph.sources.values() if source.schema not in schemas
        and (source.source_meta.durable is defined or source.package_name == 'durable') -%}
        {%- do schemas.append(source.schema) -%}
        {%- do statements.append('create schema if not exists ' ~ adapter.quote(source.schema)) -%}
    {%- endfor -%}
    {%- for source in graph.sources.values() if source.source_meta.durable is defined -%}
        {%- if not source.identifier.startswith('_') -%}
            {%- set columns = [] -%}
            {%- for column in source.columns -%}
                {%- do columns.append(adapter.quote(column) ~ ' ' ~ text) -%}
            {%- endfor -%}
            {%- set marker = (durable.merged_meta(source).get('durable') or {}).get('delete_marker') -%}
            {%- if marker and marker not in source.columns -%}
                {%- do columns.append(adapter.quote(marker) ~ ' ' ~ text) -%}
            {%- endif -%}
            {%- do statements.append(
                'create table if not exists ' ~ source.relation_name ~ ' ('
                ~ columns | join(', ') ~ ', _source_file ' ~ text ~ ', _delivery_date date, '
                ~ '_row_number bigint, _loaded_at timestamp)'
            ) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- for source in graph.sources.values() if source.package_name == 'durable' -%}
        {%- if source.identifier == '_rejected_rows' -%}
            {%- do statements.append(
                'create table if not exists ' ~ source.relation_name ~ ' (entity ' ~ text
                ~ ', _source_file ' ~ text ~ ', _delivery_date date, _row_number bigint, '
                ~ 'raw_line ' ~ text ~ ', error_type ' ~ text ~ ', error_message ' ~ text
                ~ ', _loaded_at timestamp)'
            ) -%}
        {%- elif source.identifier == '_landed_files' -%}
            {%- do statements.append(
                'create table if not exists ' ~ source.relation_name ~ ' (source_file ' ~ text
                ~ ', entity ' ~ text ~ ', delivery_date date, size_bytes bigint, '
                ~ 'mtime_ns bigint, sha256 ' ~ text ~ ', status ' ~ text ~ ', '
                ~ 'rows_delivered bigint, rows_loaded bigint, rows_rejected bigint, '
                ~ 'message ' ~ text ~ ', loaded_at timestamp)'
            ) -%}
        {%- elif source.identifier == '_landing_findings' -%}
            {%- do statements.append(
                'create table if not exists ' ~ source.relation_name ~ ' (path ' ~ text
                ~ ', entity ' ~ text ~ ', delivery_date date, status ' ~ text ~ ', reason '
                ~ text ~ ', seen_at timestamp)'
            ) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(statements | join(';\n')) }}
{% endmacro %}
