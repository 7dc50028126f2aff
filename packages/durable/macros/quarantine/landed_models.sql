{#
    The project's models that the package's quarantine and accounting models read, as the
    project lists them once in its dbt_project.yml, in vars scoped to the package:

        vars:
          durable:
            base_models: [base_shop__customers, base_shop__orders]
            held_rows:
              - {model: stg_shop__items, key: item_id, column: order_id, to: stg_shop__orders}

    dbt's graph is empty while a model is parsed, so the package cannot find these models there
    to `ref` them. It checks the list against the graph when the model runs instead: every
    landed source (a source with `meta.durable`) must be read by a listed base model and every
    listed base model must read one, or the run stops with one line saying which.

    - `durable.base_models()`: the listed base models, each `{name, relation, entity}`: its
      `ref`, and the landed table it reads (what the loader's ledger calls the entity).
    - `durable.held_rows()`: the held-rows declarations, each `{name, relation, key, column,
      awaits, field, entity, reason}`: valid rows of `relation` held in quarantine until a row
      of `awaits` with `field` equal to their `column` arrives.
    - `durable.landed_source_of(name, direct)`: the landed source a model reads (graph only).
#}

{% macro base_models() %}
    {%- set names = var('base_models', []) -%}
    {%- if names is string or names is mapping or names is not iterable -%}
        {{ exceptions.raise_compiler_error(
            "durable: var base_models must be a list of model names, got " ~ names
        ) }}
    {%- endif -%}
    {%- set models = [] -%}
    {%- set read = [] -%}
    {%- for name in names -%}
        {%- set entity = name -%}
        {%- if execute -%}
            {%- set source = durable.landed_source_of(name, direct=true) -%}
            {%- if source is none -%}
                {{ exceptions.raise_compiler_error(
                    "durable: var base_models lists " ~ name ~ ", which reads no landed source"
                    ~ " (a source with meta.durable); list the models that type the raw rows"
                ) }}
            {%- endif -%}
            {%- set entity = source.name -%}
            {%- do read.append(source.unique_id) -%}
        {%- endif -%}
        {%- do models.append({'name': name, 'relation': ref(name), 'entity': entity}) -%}
    {%- endfor -%}
    {%- if execute -%}
        {%- for source in graph.sources.values() | sort(attribute='unique_id') -%}
            {%- if 'durable' in (source.meta or {}) and source.unique_id not in read -%}
                {{ exceptions.raise_compiler_error(
                    "durable: the landed source " ~ source.source_name ~ "." ~ source.name
                    ~ " has no base model in var base_models (dbt_project.yml, vars: durable:)"
                ) }}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(models) }}
{% endmacro %}


{% macro held_rows() %}
    {%- set entries = var('held_rows', []) -%}
    {%- if entries is string or entries is mapping or entries is not iterable -%}
        {{ exceptions.raise_compiler_error(
            "durable: var held_rows must be a list of {model, key, column, to, field}, got "
            ~ entries
        ) }}
    {%- endif -%}
    {%- set held = [] -%}
    {%- set seen = [] -%}
    {%- for entry in entries -%}
        {%- set missing = [] -%}
        {%- for required in ['model', 'key', 'column', 'to'] -%}
            {%- if entry is not mapping or not entry.get(required) -%}
                {%- do missing.append(required) -%}
            {%- endif -%}
        {%- endfor -%}
        {%- if missing -%}
            {{ exceptions.raise_compiler_error(
                "durable: var held_rows: " ~ entry ~ " lacks " ~ missing | join(', ')
                ~ ", e.g. {model: stg_items, key: item_id, column: order_id, to: stg_orders}"
            ) }}
        {%- endif -%}
        {%- set unknown = entry.keys() | reject('in', ['model', 'key', 'column', 'to', 'field', 'reason'])
            | list -%}
        {%- if unknown -%}
            {{ exceptions.raise_compiler_error(
                "durable: var held_rows: unknown key " ~ unknown | join(', ') ~ " in " ~ entry
                ~ " (known: model, key, column, to, field, reason)"
            ) }}
        {%- endif -%}
        {%- if entry.model in seen -%}
            {{ exceptions.raise_compiler_error(
                "durable: var held_rows declares " ~ entry.model ~ " twice: a row is held once"
            ) }}
        {%- endif -%}
        {%- do seen.append(entry.model) -%}
        {%- set field = entry.get('field') or entry.column -%}
        {%- set entity = entry.model -%}
        {%- if execute -%}
            {%- set source = durable.landed_source_of(entry.model, direct=false) -%}
            {%- if source is none -%}
                {{ exceptions.raise_compiler_error(
                    "durable: var held_rows names " ~ entry.model
                    ~ ", which reads no landed source (a source with meta.durable)"
                ) }}
            {%- endif -%}
            {%- set entity = source.name -%}
        {%- endif -%}
        {%- set reason = entry.get('reason')
            or 'orphan: its ' ~ entry.column ~ ' is not in ' ~ entry.to ~ ' yet' -%}
        {%- set images = durable.existing_before_images(ref(entry.model)) if execute else none -%}
        {%- do held.append({
            'name': entry.model,
            'relation': ref(entry.model),
            'images': images,
            'key': entry.key,
            'column': entry.column,
            'awaits': ref(entry.to),
            'field': field,
            'entity': entity,
            'reason': reason | replace("'", "''"),
        }) -%}
    {%- endfor -%}
    {{ return(held) }}
{% endmacro %}


{% macro landed_source_of(name, direct=true) %}
    {#- The source node with `meta.durable` that the model `name` reads: directly, or (not
        `direct`) through its upstream models, nearest first; none if it reads none. -#}
    {%- set models = graph.nodes.values() | selectattr('resource_type', 'equalto', 'model')
        | selectattr('name', 'equalto', name) | list -%}
    {%- if not models -%}
        {{ exceptions.raise_compiler_error("durable: " ~ name ~ " is not a model of the project") }}
    {%- endif -%}
    {#- Breadth first: a list a for loop reads while it grows, as Jinja has no while loop. -#}
    {%- set queue = [models[0]] -%}
    {%- set visited = [] -%}
    {%- for node in queue -%}
        {%- for parent in node.depends_on.nodes if parent not in visited -%}
            {%- do visited.append(parent) -%}
            {%- if parent in graph.sources and 'durable' in (graph.sources[parent].meta or {}) -%}
                {{ return(graph.sources[parent]) }}
            {%- elif not direct and parent in graph.nodes -%}
                {%- do queue.append(graph.nodes[parent]) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endfor -%}
    {{ return(none) }}
{% endmacro %}
