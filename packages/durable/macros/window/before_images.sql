{#
    Before images: the old version of every row a package strategy updated or deleted, kept
    next to the model in `<model>__replaced` (the model's columns, plus `_replaced_by`, the
    invocation that recorded them), so the models that read it recompute what the old version
    touched: the key itself (a row withdrawn or deleted leaves the models downstream too), its
    old group (an order moved to another day leaves its old day) and its old parents (an item
    moved to another order recounts the old one). `durable.changed_rows` reads them.

    - A run that replaces or deletes rows replaces the images of the previous run that did;
      a run that changes nothing keeps them. Reading an image again recomputes rows that are
      already right (the same rows, written again as they are, so nothing changes), while
      dropping it before every model downstream has read it (a run stopped half-way) would
      lose the change for good.
    - The models' own full refresh rebuilds every row: an image is then dropped.
    - The images of one run hold what that run changed: reading them costs what changed.
#}

{% macro before_images_relation(relation) %}
    {{ return(relation.incorporate(path={'identifier': relation.identifier ~ '__replaced'})) }}
{% endmacro %}


{% macro existing_before_images(relation) %}
    {#- The images of `relation` when they exist and hold a row, else none: a model reads them
        only then, so a run with nothing replaced reads nothing more. -#}
    {%- if not execute or relation is string or model.resource_type == 'unit_test' -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set images = durable.before_images_relation(relation) -%}
    {%- if adapter.get_relation(images.database, images.schema, images.identifier) is none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set any_image = run_query('select 1 from ' ~ images ~ ' limit 1') -%}
    {{ return(images if any_image.rows | length > 0 else none) }}
{% endmacro %}


{% macro record_before_images(target, columns, old_rows) -%}
    {#- SQL that stores `old_rows` (a query of `columns` of `target`) as the images of this
        invocation: they replace the images of an earlier invocation when there is any. -#}
    {%- set images = durable.before_images_relation(target) -%}
    {%- set existing = adapter.get_relation(images.database, images.schema, images.identifier) -%}
    {%- set column_list = columns | join(', ') -%}
    {%- if existing is not none -%}
        {%- set image_columns = adapter.get_columns_in_relation(existing)
            | map(attribute='name') | map('lower') | reject('equalto', '_replaced_by') | list -%}
        {%- if image_columns != columns | map('lower') | list %}
    drop table {{ images }};
        {%- set existing = none -%}
        {%- endif -%}
    {%- endif -%}
    {%- if existing is none %}
    {#- The models downstream look the images up in dbt's cache of relations, which a table
        made by a strategy's own SQL would not be in until the next invocation. #}
    {%- do adapter.cache_added(images) %}
    create table if not exists {{ images }} as
    select {{ column_list }}, cast(null as {{ dbt.type_string() }}) as _replaced_by
    from {{ target }}
    where 1 = 0;
    {%- endif %}
    {%- set new_images = durable.scratch_table(images.identifier ~ '__new') %}
    drop table if exists {{ new_images }};
    create temporary table {{ new_images }} as {{ old_rows }};
    delete from {{ images }}
    where
        _replaced_by <> '{{ invocation_id }}'
        and exists (select 1 from {{ new_images }});
    insert into {{ images }} ({{ column_list }}, _replaced_by)
    select {{ column_list }}, '{{ invocation_id }}' from {{ new_images }};
    drop table {{ new_images }};
{%- endmacro %}


{% macro scratch_table(name) %}
    {#- The name of a temporary table a strategy fills and drops within one run: a query it
        reads several times is computed once. -#}
    {{ return(adapter.quote(name)) }}
{% endmacro %}


{% macro drop_before_images() %}
    {#- Part of the package's post-hooks: a model rebuilt whole (a full refresh) has no images
        to pass on. -#}
    {%- if not execute or is_incremental() -%}{{ return('') }}{%- endif -%}
    {%- set images = durable.before_images_relation(this) -%}
    {%- if adapter.get_relation(images.database, images.schema, images.identifier) is none -%}
        {{ return('') }}
    {%- endif -%}
    {%- do adapter.cache_dropped(images) -%}
    {{ return('drop table ' ~ images) }}
{% endmacro %}


{% macro is_table(relation) %}
    {#- Whether `relation` exists as a table (a view has no rowid): dbt's cached metadata. -#}
    {%- if not execute -%}{{ return(false) }}{%- endif -%}
    {%- set found = adapter.get_relation(relation.database, relation.schema, relation.identifier) -%}
    {{ return(found is not none and found.is_table) }}
{% endmacro %}


{% macro key_in(relation, keys, keys_query) -%}
    {#- `relation`'s rows whose key (one column or several) is a key of `keys_query`, a
        subquery with an alias or a relation holding the same key columns. One key stored with
        its hash is looked up by it; on DuckDB one key without it by the rowids of a scan of the
        key column alone (lookup/key_lookup.sql): not every column of every row. -#}
    {%- set keys = [keys] if keys is string else keys -%}
    {%- set table = keys | length == 1 and relation is not string
        and model.resource_type != 'unit_test' -%}
    {%- if table and durable.stores_key_hash(relation, keys[0]) -%}
        {{ durable.has_key_in(relation, keys[0], keys_query) }}
    {%- elif table and target.type == 'duckdb' and durable.is_table(relation) -%}
        rowid in ({{ durable.rowids_of_keys(relation, keys[0], keys_query) }})
    {%- elif keys | length == 1 -%}
        {{ keys[0] }} in (select {{ keys[0] }} from {{ keys_query }})
    {%- else -%}
        ({{ keys | join(', ') }}) in (select {{ keys | join(', ') }} from {{ keys_query }})
    {%- endif -%}
{%- endmacro %}
