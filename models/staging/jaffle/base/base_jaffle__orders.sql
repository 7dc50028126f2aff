{#- Every delivered order row, typed and checked as its source YAML declares. -#}
-- depends_on: {{ ref('order_statuses') }}
{{ durable.base_model(source('jaffle', 'orders')) }}
