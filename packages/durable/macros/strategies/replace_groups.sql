{#
    Incremental strategy `replace_groups`: for a model that recomputes whole groups (a day, a
    month) with `durable.changed_rows(..., whole=<group>)`, deletes every group it recomputed
    and inserts its output. Unlike dbt's delete+insert, which deletes only the groups the output
    holds, a group that lost its last row goes too (the day an order moved away from). The
    model's `unique_key` is its group column. Configure with
        materialized='incremental', incremental_strategy='replace_groups', unique_key=<group>
    (a project exposes it through `get_incremental_replace_groups_sql`, docs/ADOPTING.md).
    The old rows of the groups replaced are kept as before images (window/before_images.sql).
#}
{% macro get_incremental_replace_groups_sql(arg_dict) %}
    {{ return(adapter.dispatch('replace_groups_sql', 'durable')(arg_dict)) }}
{% endmacro %}

{% macro default__replace_groups_sql(arg_dict) -%}
    {%- set target, source = arg_dict['target_relation'], arg_dict['temp_relation'] -%}
    {%- set group = arg_dict['unique_key'] -%}
    {%- set columns = arg_dict['dest_columns'] | map(attribute='name') | map('lower') | list -%}
    {%- set specs = durable.recomputed_specs() | selectattr('whole') | list -%}
    {%- if group is not string or not specs -%}
        {{ exceptions.raise_compiler_error(
            "replace_groups needs one unique_key, the group column, and a durable.changed_rows("
            ~ "..., whole=...) CTE in " ~ target ~ " (window/changed_rows.sql)."
        ) }}
    {%- endif -%}
    {%- set recomputed = durable.scratch_table(target.identifier ~ '__recomputed') -%}
    {%- set replaced -%}
        {{ group }} in (select recomputed_group from {{ recomputed }})
    {%- endset %}
    drop table if exists {{ recomputed }};
    create temporary table {{ recomputed }} as
    select source_rows.{{ group }} as recomputed_group from {{ source }} as source_rows
    {%- for spec in specs %}
    union
    select recomputed_group from ({{ durable.recomputed_groups(spec) }}) as groups_
    {%- endfor %};
    {%- set old_rows -%}
        select {{ columns | join(', ') }} from {{ target }}
        where {{ replaced }}
        except
        select {{ columns | join(', ') }} from {{ source }}
    {%- endset -%}
    {{ durable.record_before_images(target, columns, old_rows) }}

    delete from {{ target }}
    where {{ replaced }};

    insert into {{ target }} ({{ columns | join(', ') }})
    select {{ columns | join(', ') }} from {{ source }};

    drop table {{ recomputed }}
{%- endmacro %}
