{#
    `durable.changed_rows(ref('stg_orders'))`: the rows of a model an incremental run recomputes,
    as an import CTE. The model then joins and selects as it would on the whole table: a full
    refresh (or the first run) gets every row, so both give the same table.

    - A row changed in the window when its event time (`event_time`: by default the one the
      relation declares, `durable.event_time_of`, else `updated_at`) falls in it or when it
      arrived in one of the window's deliveries (`delivered_on`), however late
      (`durable.changed_in_window`). The `also_when` relations are read with the same column.
    - A row whose earlier version the relation's last changes replaced or deleted (its before
      images, window/before_images.sql): the key is recomputed, and leaves the model when it
      left the relation.
    - `also_when={'order_id': ref('stg_items')}`: also the rows whose `order_id` is the
      `order_id` of a row of that relation that changed in the window, or of an old version
      of one (an order whose item arrived late, or moved to another order; an item whose order
      changed or was deleted).
    - `also_when={'product_sku': {'versions': ref('int_prices'), 'during': 'ordered_at'}}`:
      also the rows whose `product_sku` took a version valid over a span (a price, from
      `valid_from` to `valid_to`, columns of those names unless the mapping names others) that
      changed in the window, late ones included, or that the versions' strategy replaced
      (`durable_sync`: a version withdrawn or corrected): the model's own rows whose `during`
      falls in that span (`durable.changed_span`).
    - `whole='order_date'`: every row that shares this column (or expression) with a changed
      row or with an old version of one (the day an order moved away from), for a model that
      recomputes whole groups (a day, a month) and replaces them (`replace_groups`).

    The model's package strategy must know exactly the rows recomputed, to delete those the
    model no longer outputs: the CTE starts with a comment, `/* durable.changed_rows {...} */`,
    holding what it was made of as JSON; the strategy reads it back from the compiled SQL
    (`durable.recomputed_specs()`) and builds the same query.
#}
{% macro changed_rows(
    relation, also_when={}, whole=none, event_time=none, delivered_on='_delivery_date'
) %}
    {%- if not is_incremental() -%}
        {{ return('select * from ' ~ relation) }}
    {%- endif -%}
    {%- set spec = durable.recompute_spec(
        relation, also_when, whole, event_time or durable.event_time_of(relation), delivered_on
    ) -%}
    {{ return(
        '/* durable.changed_rows ' ~ tojson(spec) ~ ' */\n'
        ~ adapter.dispatch('changed_rows', 'durable')(spec)
    ) }}
{% endmacro %}


{% macro recompute_spec(relation, also_when, whole, event_time, delivered_on) %}
    {#- What a model recomputes, as plain values (rendered relation names): the marker the
        strategy reads back. The model's unique key names the rows of `relation`, unless the
        model replaces whole groups. -#}
    {%- set raw_key = config.get('unique_key') -%}
    {%- set keys = ([raw_key] if raw_key is string else raw_key) or [] -%}
    {%- set images = durable.existing_before_images(relation) -%}
    {%- set parents = {} -%}
    {%- set spans = {} -%}
    {%- for column, parent in also_when.items() -%}
        {%- if parent is mapping and 'versions' in parent -%}
            {%- set span = durable.changed_span(column, parent, event_time, delivered_on) -%}
            {%- if span is not none -%}{%- do spans.update({column: span}) -%}{%- endif -%}
        {%- else -%}
            {%- set parent_images = durable.existing_before_images(parent) -%}
            {%- do parents.update({column: {
                'relation': parent | string,
                'images': parent_images | string if parent_images is not none else none,
                'hashed': relation is not string and model.resource_type != 'unit_test'
                    and durable.stores_key_hash(relation, column),
            }}) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return({
        'relation': relation | string,
        'key_hashed': keys | length == 1 and relation is not string
            and model.resource_type != 'unit_test' and durable.stores_key_hash(relation, keys[0]),
        'key': keys if whole is none else [],
        'images': images | string if images is not none else none,
        'also_when': parents if whole is none else {},
        'spans': spans if whole is none and keys | length == 1 else {},
        'target': this | string,
        'whole': whole,
        'event_time': event_time,
        'delivered_on': delivered_on,
    }) }}
{% endmacro %}


{% macro changed_span(column, parent, event_time, delivered_on) %}
    {#- `also_when={'product_sku': {'versions': ref('int_prices'), 'during': 'ordered_at'}}`:
        a version of a parent valid over a span (a price, `valid_from` to `valid_to`, null
        bounds open) changed; the model's rows that took it are those of its table whose
        `during` falls in the span. None when no version changed, so a run without one reads
        nothing more; else the earliest time a changed span starts, which bounds the scan of the
        model's table. -#}
    {%- if not execute or model.resource_type == 'unit_test' -%}{{ return(none) }}{%- endif -%}
    {%- set versions = parent['versions'] -%}
    {%- set span = {
        'relation': versions | string,
        'during': parent['during'],
        'valid_from': parent.get('valid_from', 'valid_from'),
        'valid_to': parent.get('valid_to', 'valid_to'),
        'images': none,
        'compared': [],
    } -%}
    {%- set images = durable.existing_before_images(versions) -%}
    {%- if images is not none -%}
        {#- A version whose only change is its span (the next one was inserted or withdrawn)
            needs nothing: the span it gained or lost is that neighbour's, found by itself. -#}
        {%- set compared = [] -%}
        {%- for name in adapter.get_columns_in_relation(images) | map(attribute='name')
            | map('lower') -%}
            {%- if name not in [span.valid_from, span.valid_to] and not name.startswith('_') -%}
                {%- do compared.append(name) -%}
            {%- endif -%}
        {%- endfor -%}
        {%- do span.update({'images': images | string, 'compared': compared}) -%}
    {%- endif -%}
    {%- set found = run_query(
        "select count(*), min(coalesce(span_from, cast('1900-01-01' as timestamp))) from ("
        ~ durable.changed_spans(span, column, event_time, delivered_on)
        ~ ') as changed_spans'
    ) -%}
    {%- if found.rows[0][0] == 0 -%}{{ return(none) }}{%- endif -%}
    {%- do span.update({'since': found.rows[0][1] | string}) -%}
    {{ return(span) }}
{% endmacro %}


{% macro changed_spans(span, column, event_time, delivered_on) -%}
    {#- The spans of `column`'s versions that changed: delivered in the window, or replaced by
        the versions' strategy (their before images) other than by a new span alone. -#}
    select
        {{ column }} as span_key,
        {{ span.valid_from }} as span_from,
        {{ span.valid_to }} as span_to
    from {{ span.relation }}
    where {{ durable.changed_in_window(event_time, delivered_on) }}
    {%- if span.images %}
    union all
    select
        {{ column }} as span_key,
        {{ span.valid_from }} as span_from,
        {{ span.valid_to }} as span_to
    from {{ span.images }} as old_versions
    where not exists (
        select 1 from {{ span.relation }} as versions
        where
            {%- for compared in span.compared %}
            versions.{{ compared }} is not distinct from old_versions.{{ compared }}
            {%- if not loop.last %} and{% endif %}
            {%- endfor %}
    )
    {%- endif %}
{%- endmacro %}


{% macro recomputed_specs() %}
    {#- The specs of every `changed_rows` CTE in the compiled SQL of the model being built. -#}
    {%- set compiled = model.get('compiled_code') or sql -%}
    {%- set specs = [] -%}
    {%- for text in modules.re.findall('/\\* durable\\.changed_rows (\\{.*?\\}) \\*/', compiled) -%}
        {%- do specs.append(fromjson(text)) -%}
    {%- endfor -%}
    {{ return(specs) }}
{% endmacro %}


{% macro recomputed_groups(spec) -%}
    {#- The groups (values of `whole`) a changed row, or the old version of one, belongs to. -#}
    select {{ spec.whole }} as recomputed_group from {{ spec.relation }}
    where {{ durable.changed_in_window(spec.event_time, spec.delivered_on) }}
    {%- if spec.images %}
    union
    select {{ spec.whole }} as recomputed_group from {{ spec.images }}
    {%- endif %}
{%- endmacro %}


{% macro recomputed_keys(spec) -%}
    {#- The keys a model recomputes: those of its recomputed rows, and those whose old version
        left the relation (deleted or withdrawn). -#}
    {%- set key_list = spec.key | join(', ') -%}
    {#- Each branch selects the keys alone: a distinct union of whole rows would read and
        compare every column of them. -#}
    {%- set keys_only = {} -%}
    {%- do keys_only.update(spec) -%}
    {%- do keys_only.update({'columns': key_list}) -%}
    select {{ key_list }} from ({{ adapter.dispatch('changed_rows', 'durable')(keys_only) }}) as recomputed
    {%- if spec.images %}
    union
    select {{ key_list }} from {{ spec.images }}
    {%- endif %}
{%- endmacro %}


{% macro default__changed_rows(spec) -%}
    {%- set changed = durable.changed_in_window(spec.event_time, spec.delivered_on) -%}
    {%- if spec.whole is not none -%}
        {#- The lower bound lets a scan skip the blocks before the first changed group: tables
            are written in time order, so old groups sit in old blocks. -#}
        select * from {{ spec.relation }}
        where
            {{ spec.whole }} >= (
                select min(recomputed_group) from ({{ durable.recomputed_groups(spec) }}) as groups_
            )
            and {{ spec.whole }} in (
                select recomputed_group from ({{ durable.recomputed_groups(spec) }}) as groups_
            )
    {%- else -%}
        select {{ spec.get('columns', '*') }} from {{ spec.relation }}
        where {{ changed }}
        {%- if spec.images and spec.key %}
        union
        select {{ spec.get('columns', '*') }} from {{ spec.relation }}
        where {{ durable.recomputed_key_condition(spec) }}
        {%- endif %}
        {%- for column, parent in spec.also_when.items() %}
        union
        select {{ spec.get('columns', '*') }} from {{ spec.relation }}
        where {{ durable.rows_keyed_in(
            spec.relation, column, parent.hashed,
            '(select ' ~ column ~ ' from ' ~ parent.relation ~ ' where ' ~ changed
            ~ ') as changed_parents'
        ) }}
        {%- if parent.images %}
        union
        select {{ spec.get('columns', '*') }} from {{ spec.relation }}
        where {{ durable.rows_keyed_in(spec.relation, column, parent.hashed, parent.images) }}
        {%- endif %}
        {%- endfor %}
        {%- for column, span in spec.spans.items() %}
        union
        select {{ spec.get('columns', '*') }} from {{ spec.relation }}
        where {{ durable.recomputed_key_condition(
            spec, '(' ~ durable.rows_in_changed_span(spec, column, span) ~ ') as in_span'
        ) }}
        {%- endfor %}
    {%- endif -%}
{%- endmacro %}


{% macro rows_in_changed_span(spec, column, span) -%}
    {#- The keys of the model's table whose `during` falls in a span of `column` that changed. -#}
    select target_rows.{{ spec.key[0] }}
    from {{ spec.target }} as target_rows
    inner join (
        {{ durable.changed_spans(span, column, spec.event_time, spec.delivered_on) }}
    ) as changed_spans
        on
            target_rows.{{ column }} = changed_spans.span_key
            and (changed_spans.span_from is null or target_rows.{{ span.during }} >= changed_spans.span_from)
            and (changed_spans.span_to is null or target_rows.{{ span.during }} < changed_spans.span_to)
    where target_rows.{{ span.during }} >= cast('{{ span.since }}' as timestamp)
{%- endmacro %}


{% macro recomputed_key_condition(spec, keys=none) -%}
    {#- The rows of the relation whose key is one of `keys` (a relation, or a subquery with an
        alias): by default its before images. -#}
    {%- set keys = keys or spec.images -%}
    {%- if spec.key | length == 1 -%}
        {{ durable.rows_keyed_in(spec.relation, spec.key[0], spec.key_hashed, keys) }}
    {%- else -%}
        ({{ spec.key | join(', ') }}) in (select {{ spec.key | join(', ') }} from {{ keys }})
    {%- endif -%}
{%- endmacro %}


{% macro rows_keyed_in(relation, column, hashed, keys) -%}
    {#- The rows of `relation` (a rendered name) whose `column` is one of `keys`' (a relation,
        or a subquery with an alias). Where `relation` stores the column's hash, DuckDB finds
        their rowids by the hash column alone and reads whole rows only from the blocks that
        hold them (lookup/key_lookup.sql); a plain `in` would read every column of every row. -#}
    {%- if hashed and target.type == 'duckdb' -%}
        rowid in ({{ durable.rowids_with_keys(relation, column, keys) }})
        and {{ column }} in (select {{ column }} from {{ keys }})
    {%- else -%}
        {{ column }} in (select {{ column }} from {{ keys }})
    {%- endif -%}
{%- endmacro %}


{% macro spark__changed_rows(spec) -%}
    {#- One scan with OR: Spark (4.x, local) fails to ship a UNION whose branches filter on an
        IN-subquery to its executors (ClassCastException on UnionExec.children). -#}
    {%- if spec.whole is not none or not (spec.also_when or spec.images or spec.spans) -%}
        {{ durable.default__changed_rows(spec) }}
    {%- else -%}
        {%- set changed = durable.changed_in_window(spec.event_time, spec.delivered_on) -%}
        select {{ spec.get('columns', '*') }} from {{ spec.relation }}
        where {{ changed }}
        {%- if spec.images and spec.key %}
            or {{ durable.recomputed_key_condition(spec) }}
        {%- endif %}
        {%- for column, parent in spec.also_when.items() %}
            or {{ column }} in (select {{ column }} from {{ parent.relation }} where {{ changed }})
            {%- if parent.images %}
            or {{ column }} in (select {{ column }} from {{ parent.images }})
            {%- endif %}
        {%- endfor %}
        {%- for column, span in spec.spans.items() %}
            or {{ durable.recomputed_key_condition(
                spec, '(' ~ durable.rows_in_changed_span(spec, column, span) ~ ') as in_span'
            ) }}
        {%- endfor %}
    {%- endif -%}
{%- endmacro %}
