"""Order-independent table checksums, comparable across runs, files and engines."""

from __future__ import annotations

import hashlib
from datetime import date, datetime
from decimal import Decimal

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


def relation_checksum(
    con: duckdb.DuckDBPyConnection, relation: str, exclude: tuple[str, ...] = ()
) -> tuple[int, str]:
    schema, table = relation.split(".")
    columns = [
        name
        for (name,) in con.execute(
            "select column_name from information_schema.columns "
            "where table_schema = ? and table_name = ? order by ordinal_position",
            [schema, table],
        ).fetchall()
        if name not in exclude
    ]
    return rows_checksum(con.execute(f"select {', '.join(columns)} from {relation}").fetchall())


def warehouse_checksums(
    con: duckdb.DuckDBPyConnection, schema: str = "analytics", snapshots: bool = True
) -> dict[str, tuple[int, str]]:
    names = (*MARTS, *SNAPSHOTS) if snapshots else MARTS
    return {name: relation_checksum(con, f"{schema}.{name}", AUDIT_COLUMNS) for name in names}
