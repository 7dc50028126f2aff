"""DuckDB, embedded: raw tables in the warehouse file, write-audit-publish by file rename."""

from durable.engines.duckdb.loader import DuckDBLoader
from durable.engines.duckdb.publisher import DuckDBPublisher
from durable.engines.interface import Engine

ENGINE = Engine("duckdb", DuckDBLoader, DuckDBPublisher)

__all__ = ["ENGINE", "DuckDBLoader", "DuckDBPublisher"]
