"""Order-independent table checksums, comparable across runs, files and engines."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import duckdb

MARTS = (
    "fct_orders",
    "fct_order_items",
    "agg_daily_revenue",
    "dim_customers",
    "dim_products",
    "dim_stores",
)
SNAPSHOTS = ("snap_customers", "snap_products", "snap_order_status")
# Which run wrote a row, and when its file was loaded: operational, they differ by design.
AUDIT_COLUMNS = ("_invocation_id", "_loaded_at")
# Comparing one engine's tables with another's: row_hash is each engine's own change detector
# (DuckDB hashes the typed values, PostgreSQL and Spark take md5 of their text), and the
# _<key>_hash columns each engine's own lookup keys (macros/key_lookup.sql), not values two
# engines share.
KEY_HASHES = ("_order_id_hash", "_order_item_id_hash")
ACROSS_ENGINES_EXCLUDE = (*AUDIT_COLUMNS, "row_hash", *KEY_HASHES)


def canonical(row: tuple) -> str:
    def one(value: object) -> str:
        if value is None:
            return "<null>"
        if isinstance(value, Decimal | float):
            return f"{Decimal(str(value)):.4f}"
        if isinstance(value, datetime | date):
            return value.isoformat()
        return str(value)

    return "|".join(one(v) for v in row)


def rows_checksum(rows: list[tuple]) -> tuple[int, str]:
    digests = sorted(hashlib.sha256(canonical(row).encode()).hexdigest() for row in rows)
    return len(rows), hashlib.sha256("".join(digests).encode()).hexdigest()


Query = Callable[[str], list[tuple]]


def query_function(con: Any) -> Query:
    """`sql -> rows` for a DuckDB connection or a DB-API one (psycopg2 for PostgreSQL)."""
    if isinstance(con, duckdb.DuckDBPyConnection):
        return lambda sql: con.execute(sql).fetchall()

    def run(sql: str) -> list[tuple]:
        with con.cursor() as cursor:
            cursor.execute(sql)
            return cursor.fetchall()

    return run


def relation_checksum(con: Any, relation: str, exclude: tuple[str, ...] = ()) -> tuple[int, str]:
    query = query_function(con)
    schema, table = relation.split(".")
    columns = [
        name
        for (name,) in query(
            "select column_name from information_schema.columns "
            f"where table_schema = '{schema}' and table_name = '{table}' "
            "order by ordinal_position"
        )
        if name not in exclude
    ]
    return rows_checksum(query(f"select {', '.join(columns)} from {relation}"))


def warehouse_checksums(
    con: Any,
    schema: str = "analytics",
    snapshots: bool = True,
    exclude: tuple[str, ...] = AUDIT_COLUMNS,
) -> dict[str, tuple[int, str]]:
    names = (*MARTS, *SNAPSHOTS) if snapshots else MARTS
    return {name: relation_checksum(con, f"{schema}.{name}", exclude) for name in names}
