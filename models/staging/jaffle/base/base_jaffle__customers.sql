{#- Every delivered customer row, typed and checked as its source YAML declares. -#}
{{ durable.base_model(source('jaffle', 'customers')) }}
