{#- Every delivered dock reading row, typed and checked as its source YAML declares. -#}
{{ durable.base_model(source('fleet', 'dock_readings')) }}
