"""PostgreSQL: raw tables loaded with COPY, write-audit-publish by schema swap."""

from durable.engines.interface import Engine
from durable.engines.postgres.loader import PostgresLoader
from durable.engines.postgres.publisher import PostgresPublisher

ENGINE = Engine("postgres", PostgresLoader, PostgresPublisher)

__all__ = ["ENGINE", "PostgresLoader", "PostgresPublisher"]
