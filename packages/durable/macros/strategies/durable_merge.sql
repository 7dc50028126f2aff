{#
    Incremental strategy `durable_merge`: an upsert on the model's `unique_key` that rewrites a
    matched row only when one of its columns changed, so re-running a window writes nothing,
    and inserts new keys. Configure with
        materialized='incremental', incremental_strategy='durable_merge', unique_key=...
    (a project exposes it through `get_incremental_durable_merge_sql`, docs/ADOPTING.md).

    - No hand-kept list of columns: a row changed when any column of the model (as its contract
      or query has it) differs, nulls included (`is distinct from`).
    - `_invocation_id`: the dbt invocation that last inserted or changed each row, set by the
      strategy (and by `durable.track_changes`, the post-hook, on a full build): the runner
      counts the rows each window changed by it.
    - Rows the model recomputed (its `durable.changed_rows` CTEs say which: window/changed_rows.sql)
      but no longer outputs are deleted: a key deleted or withdrawn upstream, an item whose order
      left. The old version of every row updated or deleted is kept as a before image
      (window/before_images.sql), for the models downstream.
    - A model whose columns no longer match its table never gets here: the package's
      `process_schema_changes` (overrides/schema_changes.sql) stops the run with one line
      instead of publishing a new column null on every earlier row. A full refresh
      (`durable run --full-refresh --select <model>`) rolls the change out.
#}
{% macro get_incremental_durable_merge_sql(arg_dict) %}
    {{ return(adapter.dispatch('durable_merge_sql', 'durable')(arg_dict)) }}
{% endmacro %}

{% macro default__durable_merge_sql(arg_dict, whole_output=false) -%}
    {%- set target, source = arg_dict['target_relation'], arg_dict['temp_relation'] -%}
    {%- set raw_key = arg_dict['unique_key'] -%}
    {%- set keys = [raw_key] if raw_key is string else raw_key -%}
    {#- dest_columns: the model's columns, once the package's process_schema_changes found them
        to be its table's (overrides/schema_changes.sql); its table's with on_schema_change
        'ignore', as dbt has it. -#}
    {%- set tracker = durable.change_tracker_column() -%}
    {%- set columns = arg_dict['dest_columns'] | map(attribute='name') | map('lower')
        | reject('equalto', tracker) | list -%}
    {%- set quoted = [] -%}
    {%- for column in columns -%}{%- do quoted.append(adapter.quote(column)) -%}{%- endfor -%}
    {%- set conditions = [] -%}
    {%- for key in keys -%}
        {%- do conditions.append('target_rows.' ~ key ~ ' = source_rows.' ~ key) -%}
    {%- endfor -%}
    {#- On DuckDB, one scan of the target's key column finds the rows of the source's and the
        recomputed keys (`matched`): the before images, the delete and the MERGE then read the
        target's other columns only in the row groups holding them, not every row's. -#}
    {%- set by_rowid = keys | length == 1 and adapter.type() == 'duckdb' -%}
    {%- set matching = by_rowid and not whole_output -%}
    {%- set matched = durable.scratch_table(target.identifier ~ '__matched') -%}
    {%- if matching -%}
        {%- do conditions.append(
            'target_rows.rowid in (' ~ durable.matched_rowids(matched, keys[0], source) ~ ')'
        ) -%}
    {%- elif by_rowid -%}
        {%- do conditions.append(
            'target_rows.rowid in (' ~ durable.key_rowids(target, keys[0], source) ~ ')'
        ) -%}
    {%- endif -%}
    {%- for predicate in (arg_dict.get('incremental_predicates') or []) -%}
        {%- do conditions.append(predicate) -%}
    {%- endfor -%}
    {%- set compared = [] -%}
    {%- for column in columns if column not in keys -%}
        {%- do compared.append(column) -%}
    {%- endfor -%}

    {%- if not durable.has_column(target, tracker) %}
    alter table {{ target }} add column {{ tracker }} {{ dbt.type_string() }};
    {% endif %}
    {%- set recomputed = durable.scratch_table(target.identifier ~ '__recomputed') %}
    {%- if whole_output %}
    {%- set left = 'not (' ~ durable.key_in(target, keys, source) ~ ')' %}
    {%- else %}
    {%- set left = durable.recomputed_but_left(
        target, keys, source, recomputed, matched if matching else none
    ) %}
    {%- endif %}
    {%- set scratch = left and not whole_output %}
    {%- if scratch %}
    drop table if exists {{ recomputed }};
    create temporary table {{ recomputed }} as {{ durable.recomputed_keys_of_specs(keys) }};
    {%- endif %}
    {%- if matching %}
    {%- set key = keys[0] %}
    {%- set wanted -%}
        (select {{ key }} from {{ source }}
        {%- if scratch %} union all select {{ key }} from {{ recomputed }}{% endif %}) as wanted_keys
    {%- endset %}
    drop table if exists {{ matched }};
    create temporary table {{ matched }} as
    select rowid as target_rowid, {{ key }} from {{ target }}
    where
    {%- if durable.stores_key_hash(target, key) %} {{ durable.has_key_in(target, key, wanted) }}
    {%- else %} {{ key }} in (select {{ key }} from {{ wanted }})
    {%- endif %};
    {%- endif %}
    {%- set old_rows -%}
        select {{ quoted | join(', ') }} from {{ target }}
        where
        {%- if matching %} rowid in ({{ durable.matched_rowids(matched, keys[0], source) }})
        {%- else %} {{ durable.key_in(target, keys, source) }}
        {%- endif %}
        except
        select {{ quoted | join(', ') }} from {{ source }}
        {%- if left %}
        union all
        select {{ quoted | join(', ') }} from {{ target }}
        where {{ left }}
        {%- endif %}
    {%- endset %}
    {{ durable.record_before_images(target, columns, old_rows) }}
    {%- if left %}
    delete from {{ target }}
    where {{ left }};
    {%- endif %}
    {%- if scratch %}
    drop table {{ recomputed }};
    {%- endif %}

    merge into {{ target }} as target_rows
    using {{ source }} as source_rows
    on {{ conditions | join(' and ') }}
    when matched and (
        {%- for column in compared %}
        target_rows.{{ adapter.quote(column) }} is distinct from source_rows.{{ adapter.quote(column) }}
        {%- if not loop.last %} or{% endif %}
        {%- endfor %}
    ) then update set
        {%- for column in compared %}
        {{ adapter.quote(column) }} = source_rows.{{ adapter.quote(column) }},
        {%- endfor %}
        {{ tracker }} = '{{ invocation_id }}'
    when not matched then insert ({{ quoted | join(', ') }}, {{ tracker }})
    values (
        {%- for column in quoted %}
        source_rows.{{ column }},
        {%- endfor %}
        '{{ invocation_id }}'
    )
    {%- if matching %};
    drop table {{ matched }}
    {%- endif %}
{%- endmacro %}


{#
    Incremental strategy `durable_sync`: `durable_merge` for a small model that outputs all its
    rows every run (the versions of a reference table, such as a product's prices), so a key it
    no longer outputs is deleted. It writes only the rows that changed, and keeps the old
    version of every row it changed or deleted as a before image, for the models downstream (a
    price withdrawn re-prices the items it priced: `durable.changed_rows`' spans). Configure
    with `materialized='incremental', incremental_strategy='durable_sync', unique_key=...`.
#}
{% macro get_incremental_durable_sync_sql(arg_dict) %}
    {{ return(adapter.dispatch('durable_sync_sql', 'durable')(arg_dict)) }}
{% endmacro %}

{% macro default__durable_sync_sql(arg_dict) -%}
    {{ durable.default__durable_merge_sql(arg_dict, whole_output=true) }}
{%- endmacro %}


{% macro recomputed_but_left(target, keys, source, recomputed, matched=none) -%}
    {#- The condition on `target`'s rows the model recomputed (their keys in the table
        `recomputed`, filled from `durable.recomputed_keys_of_specs`) but no longer outputs;
        empty when the model has no `changed_rows` CTE on its unique key to say what it
        recomputed. With `matched`, their rowids are looked up there. -#}
    {%- if durable.recomputed_keys_of_specs(keys) -%}
        {#- The second test runs on the few rows the first found: a plain `in`, not a lookup. -#}
        {%- if matched is not none -%}
        rowid in ({{ durable.matched_rowids(matched, keys[0], recomputed) }})
        {%- else -%}
        {{ durable.key_in(target, keys, recomputed) }}
        {%- endif %}
        and not (({{ keys | join(', ') }}) in (select {{ keys | join(', ') }} from {{ source }}))
    {%- endif -%}
{%- endmacro %}


{% macro recomputed_keys_of_specs(keys) -%}
    {#- The keys the model's `changed_rows` CTEs recomputed, when they are all on its unique
        key; empty otherwise. -#}
    {%- set specs = durable.recomputed_specs() | selectattr('key') | list -%}
    {%- if specs and specs | map(attribute='key') | map('join', ',') | unique | list
        == [keys | join(',')] -%}
        {%- for spec in specs %}{{ durable.recomputed_keys(spec) }}
        {%- if not loop.last %} union {% endif %}{% endfor -%}
    {%- endif -%}
{%- endmacro %}


{% macro matched_rowids(matched, key, keys) -%}
    {#- The target's rowids in `matched` (a scratch table of `target_rowid` and the key, made
        by one scan of the target's key column) whose key is in `keys`. -#}
    select target_rowid from {{ matched }} where {{ key }} in (select {{ key }} from {{ keys }})
{%- endmacro %}


{% macro change_tracker_column() %}{{ return('_invocation_id') }}{% endmacro %}


{% macro has_column(relation, column) %}
    {{ return(column in (
        adapter.get_columns_in_relation(relation) | map(attribute='name') | map('lower') | list
    )) }}
{% endmacro %}


{% macro track_changes() %}
    {#- post-hook of every model (dbt_project.yml): after a full build of a `durable_merge`
        model, every row was written by this invocation; later merges set the column on the
        rows they change. Other models: nothing. A model built whole drops its before images
        (window/before_images.sql). -#}
    {%- set dropped = durable.drop_before_images() -%}
    {%- if dropped -%}{%- do run_query(dropped) -%}{%- endif -%}
    {%- if not execute or model.config.materialized != 'incremental'
        or model.config.incremental_strategy not in ('durable_merge', 'durable_sync') -%}
        {{ return('') }}
    {%- endif -%}
    {%- set tracker = durable.change_tracker_column() -%}
    {%- if durable.has_column(this, tracker) -%}{{ return('') }}{%- endif -%}
    {{ return(
        'alter table ' ~ this ~ ' add column ' ~ tracker ~ ' ' ~ dbt.type_string()
        ~ " default '" ~ invocation_id ~ "'"
    ) }}
{% endmacro %}
