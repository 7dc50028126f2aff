{#- Every delivered item row, typed and checked as its source YAML declares. -#}
{{ durable.base_model(source('jaffle', 'items')) }}
