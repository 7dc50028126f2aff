"""Apache Spark, in-process: parquet raw tables, write-audit-publish by re-pointing views."""

from durable.engines.interface import Engine
from durable.engines.spark.loader import SparkLoader
from durable.engines.spark.publisher import SparkPublisher

ENGINE = Engine("spark", SparkLoader, SparkPublisher)

__all__ = ["ENGINE", "SparkLoader", "SparkPublisher"]
