{#-
    dbt looks incremental strategies up in the root project only, so a project exposes the
    durable package's strategies by naming them here (docs/ADOPTING.md).
-#}
{% macro get_incremental_durable_merge_sql(arg_dict) %}
    {{ return(durable.get_incremental_durable_merge_sql(arg_dict)) }}
{% endmacro %}

{% macro get_incremental_durable_sync_sql(arg_dict) %}
    {{ return(durable.get_incremental_durable_sync_sql(arg_dict)) }}
{% endmacro %}

{% macro get_incremental_hash_delete_insert_sql(arg_dict) %}
    {{ return(durable.get_incremental_hash_delete_insert_sql(arg_dict)) }}
{% endmacro %}

{% macro get_incremental_replace_groups_sql(arg_dict) %}
    {{ return(durable.get_incremental_replace_groups_sql(arg_dict)) }}
{% endmacro %}
