{#
    `durable.correct_snapshot(ref('stg_orders'))`, a snapshot's post-hook: what dbt's
    timestamp strategy cannot see reaches the snapshot's current rows. dbt adds a version only
    when a key's `updated_at` grows, and with its filtered query (the versions loaded since its
    last run) it cannot tell a key that left from one that did not change. The staging model's
    before images (window/before_images.sql) name every key whose row changed or left, so for
    those keys only:

    - a key no longer in the staging model (withdrawn, or deleted by the source) has its current
      row ended, as dbt's `hard_deletes: invalidate` would, at the end of the run's window (the
      same on every engine and every re-run; the current time when the run has no window);
    - a key whose staging row differs from its current row without a newer `updated_at` (a
      version withdrawn that falls back to the one before, a row corrected under the same
      time) gets the staging row as its current row: the rows of versions from that time on
      were never the key's latest version, and go.

    The current rows are then the ones a snapshot built from scratch on the same deliveries
    holds. Nothing to do when the staging model has no images. A staging view (small reference
    data, no images) has its keys delivered in the window checked instead, with those whose
    current version came from a file of the window (a re-send may have withdrawn it).
#}
{% macro correct_snapshot(relation) %}
    {%- if not execute -%}{{ return('select 1') }}{%- endif -%}
    {%- set key = config.get('unique_key') -%}
    {%- set updated_at = config.get('updated_at') -%}
    {%- set columns = config.get('snapshot_table_column_names') or get_snapshot_table_column_names() -%}
    {%- set snapshot_columns = adapter.get_columns_in_relation(this) | map(attribute='name')
        | map('lower') | list -%}
    {%- set existing = adapter.get_relation(relation.database, relation.schema, relation.identifier) -%}
    {%- if existing is not none and existing.is_view -%}
        {#- A view has no before images, and is small reference data: the keys it shows a
            version of delivered in the window (one re-sent under the same time included), and
            the keys whose current version came from a file of the window (which a re-send
            may have withdrawn). -#}
        {%- set changed = durable.changed_in_window(updated_at, '_delivery_date') -%}
        {#- Kept aside first: the statements below change the current rows it reads. -#}
        {%- set images = durable.scratch_table(this.identifier ~ '__changed_keys') -%}
        {%- set prepare -%}
    drop table if exists {{ images }};
    create temporary table {{ images }} as
    select {{ key }} from {{ relation }} where {{ changed }}
            {%- if '_delivery_date' in snapshot_columns %}
    union
    select {{ key }} from {{ this }}
    where {{ columns.dbt_valid_to }} is null and {{ changed }}
            {%- endif %};
        {%- endset -%}
        {%- set cleanup = ';\n    drop table ' ~ images -%}
    {%- else -%}
        {%- set images = durable.existing_before_images(relation) -%}
        {%- set prepare, cleanup = '', '' -%}
    {%- endif -%}
    {%- if images is none -%}{{ return('select 1') }}{%- endif -%}
    {%- set shared = [] -%}
    {%- for column in adapter.get_columns_in_relation(relation) | map(attribute='name') | map('lower') -%}
        {%- if column in snapshot_columns -%}{%- do shared.append(column) -%}{%- endif -%}
    {%- endfor -%}
    {%- set shared_list = shared | join(', ') -%}
    {%- set scope = durable.snapshot_correction_scope(
        relation, key, images, shared_list, columns.dbt_valid_to
    ) -%}
    {{ return(prepare ~ scope.prepare ~ durable.correct_snapshot_sql(
        key, updated_at, columns, shared_list, scope.staged, scope.current_of_changed
    ) ~ scope.cleanup ~ cleanup) }}
{% endmacro %}


{% macro snapshot_correction_scope(relation, key, images, shared_list, valid_to) %}
    {{ return(adapter.dispatch('snapshot_correction_scope', 'durable')(
        relation, key, images, shared_list, valid_to
    )) }}
{% endmacro %}


{% macro default__snapshot_correction_scope(relation, key, images, shared_list, valid_to) %}
    {%- set staged -%}
        (select {{ shared_list }} from {{ relation }}
        where {{ durable.key_in(relation, key, images) }}) as staged
    {%- endset -%}
    {%- set current_of_changed -%}
        {{ valid_to }} is null and {{ durable.key_in(this, key, images) }}
    {%- endset -%}
    {{ return({
        'prepare': '', 'staged': staged, 'current_of_changed': current_of_changed, 'cleanup': ''
    }) }}
{% endmacro %}


{% macro duckdb__snapshot_correction_scope(relation, key, images, shared_list, valid_to) %}
    {#- The statements read the staged rows and the current rows of the changed keys seven
        times: each is looked up once, into a scratch table. The current rows are kept by
        rowid, so every statement still sees what the ones before it changed (an ended or
        deleted row is no longer current). -#}
    {%- set staged = durable.scratch_table(this.identifier ~ '__staged') -%}
    {%- set current = durable.scratch_table(this.identifier ~ '__current') -%}
    {%- set prepare -%}
    drop table if exists {{ staged }};
    create temporary table {{ staged }} as
    select {{ shared_list }} from {{ relation }}
    where {{ durable.key_in(relation, key, images) }};
    drop table if exists {{ current }};
    create temporary table {{ current }} as
    select rowid as snapshot_rowid from {{ this }}
    where {{ valid_to }} is null and {{ durable.key_in(this, key, images) }};
    {%- endset -%}
    {{ return({
        'prepare': prepare,
        'staged': staged ~ ' as staged',
        'current_of_changed': valid_to ~ ' is null and rowid in (select snapshot_rowid from '
            ~ current ~ ')',
        'cleanup': ';\n    drop table ' ~ staged ~ ';\n    drop table ' ~ current
    }) }}
{% endmacro %}


{% macro correct_snapshot_sql(key, updated_at, columns, shared_list, staged, current_of_changed) -%}
    {%- set window = durable.window_vars() %}
    update {{ this }}
    set {{ columns.dbt_valid_to }} = {{ "cast('" ~ window['to_exclusive'] ~ "' as timestamp)"
        if window is not none else snapshot_get_time() }}
    where
        {{ current_of_changed }}
        and {{ key }} not in (select staged.{{ key }} from {{ staged }});

    delete from {{ this }}
    where ({{ key }}, {{ columns.dbt_valid_from }}) in (
        select versions.{{ key }}, versions.{{ columns.dbt_valid_from }}
        from {{ this }} as versions
        inner join {{ staged }}
            on versions.{{ key }} = staged.{{ key }}
        where
            versions.{{ key }} in (
                select stale.{{ key }} from (
                    select {{ shared_list }} from {{ this }}
                    where {{ current_of_changed }}
                    except
                    select {{ shared_list }} from {{ staged }}
                ) as stale
            )
            and versions.{{ columns.dbt_valid_from }} >= staged.{{ updated_at }}
    );

    insert into {{ this }} (
        {{ shared_list }},
        {{ columns.dbt_scd_id }},
        {{ columns.dbt_updated_at }},
        {{ columns.dbt_valid_from }},
        {{ columns.dbt_valid_to }}
    )
    select
        {{ shared_list }},
        {{ snapshot_hash_arguments([key, updated_at]) }},
        {{ updated_at }},
        {{ updated_at }},
        null
    from {{ staged }}
    where staged.{{ key }} not in (
        select current_rows.{{ key }} from {{ this }} as current_rows
        where {{ current_of_changed }}
    )
{%- endmacro %}
