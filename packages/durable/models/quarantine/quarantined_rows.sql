{{
    config(
        enabled=var('base_models', []) | length > 0,
        incremental_strategy='append',
        on_schema_change='append_new_columns',
        pre_hook="{{ durable.clear_quarantine_scope(held_rows=durable.held_rows()) }}",
    )
}}

{#-
    Every delivered row that is not in the marts, and why. `rejected`: it failed a row-level
    check of its base model (its `invalid_reason`) or the CSV reader could not split it. `held`:
    a valid row waiting for the row it references (the project's var `held_rows`); it leaves
    this table by itself when that row lands.

    The base models are the project's, listed once in its var `base_models`
    (macros/quarantine/landed_models.sql). Incremental: the pre-hook
    (macros/quarantine/quarantine.sql) removes the rows of the window's deliveries and the held
    rows its deliveries settle; this query adds the window's rows back.
-#}
{%- set base_models = durable.base_models() -%}
{%- set held_rows = durable.held_rows() -%}

with
{% for base in base_models %}
{{ base.name }}_rejected as (
    select * from {{ base.relation }}
    where invalid_reason is not null and {{ durable.quarantine_scope('_delivery_date') }}
),
{% endfor %}

unreadable_lines as (
    select * from {{ source('durable', 'rejected_rows') }}
    where {{ durable.quarantine_scope('_delivery_date') }}
),

{% for held in held_rows %}
{{ held.name }}_in_scope as (
    {#- And the rows whose key the model's last change replaced (a newer version withdrawn
        falls back to an older one, which may be held under its own file). -#}
    select * from {{ held.relation }}
    where
        {{ durable.quarantine_scope('_delivery_date') }}
        {%- if is_incremental() and held.images %}
        or {{ durable.key_in(held.relation, held.key, held.images) }}
        {%- endif %}
),

{{ held.name }}_keys as (
    select {{ held.column }}{% if held.column != held.field %} as {{ held.field }}{% endif %}
    from {{ held.name }}_in_scope
),

{{ held.name }}_awaited as (
    {#- A daily run looks the awaited rows up by key hash where the table stores it
        (macros/lookup/key_lookup.sql). -#}
    {% if is_incremental() and durable.stores_key_hash(held.awaits, held.field) -%}
    {{ durable.rows_with_keys(held.awaits, held.field, held.name ~ '_keys') }}
    {%- else -%}
    select * from {{ held.awaits }}
    {%- endif %}
),

{% endfor %}

rejected as (
    {% for base in base_models %}
    select
        '{{ base.entity }}' as entity,
        invalid_reason as reason,
        _source_file,
        _delivery_date,
        _row_number,
        _loaded_at
    from {{ base.name }}_rejected
    union all
    {% endfor %}
    select
        entity,
        'unreadable line: ' || error_message as reason,
        _source_file,
        _delivery_date,
        _row_number,
        _loaded_at
    from unreadable_lines
),

{% if held_rows %}
held as (
    {#- The window's rows whose awaited row is missing. Rows held since earlier deliveries stay
        in the table until the pre-hook sees their awaited row (or a new version) arrive. -#}
    {% for held in held_rows %}
    select
        '{{ held.entity }}' as entity,
        '{{ held.reason }}' as reason,
        held_rows._source_file,
        held_rows._delivery_date,
        held_rows._row_number,
        held_rows._loaded_at,
        cast(held_rows.{{ held.key }} as {{ dbt.type_string() }}) as row_key,
        cast(held_rows.{{ held.column }} as {{ dbt.type_string() }}) as awaited_key
    from {{ held.name }}_in_scope as held_rows
    left join {{ held.name }}_awaited as awaited
        on held_rows.{{ held.column }} = awaited.{{ held.field }}
    where awaited.{{ held.field }} is null
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
),
{% endif %}

unioned as (
    select
        entity,
        'rejected' as quarantine_status,
        reason,
        _source_file,
        _delivery_date,
        _row_number,
        _loaded_at,
        cast(null as {{ dbt.type_string() }}) as row_key,
        cast(null as {{ dbt.type_string() }}) as awaited_key
    from rejected
    {% if held_rows %}
    union all
    select
        entity,
        'held' as quarantine_status,
        reason,
        _source_file,
        _delivery_date,
        _row_number,
        _loaded_at,
        row_key,
        awaited_key
    from held
    {% endif %}
),

final as (
    select
        _source_file || ':' || cast(_row_number as {{ dbt.type_string() }}) as quarantined_row_id,
        entity,
        quarantine_status,
        reason,
        _source_file,
        _delivery_date,
        _row_number,
        _loaded_at,
        row_key,
        awaited_key
    from unioned
)

select * from final
