"""Durable data pipelines on dbt: load deliveries, build and test, publish only what passed."""

__version__ = "0.1.0"
