{#- Every delivered station row, typed and checked as its source YAML declares. -#}
{{ durable.base_model(source('fleet', 'stations')) }}
