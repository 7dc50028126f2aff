"""Shared fixtures: a small simulated source and isolated warehouses to run the pipeline on."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from durable.config import PROJECT_DIR, Settings
from durable.pipeline import WindowResult, process_window
from durable.simulator import DeliveryPlan

SEED = 7
DAYS = 10
MARTS = (
    "fct_orders",
    "fct_order_items",
    "agg_daily_revenue",
    "dim_customers",
    "dim_products",
    "dim_stores",
)
SNAPSHOTS = ("snap_customers", "snap_products", "snap_order_status")


@pytest.fixture(scope="session")
def jafgen_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("jafgen-cache")


@pytest.fixture(scope="session")
def plan(jafgen_cache: Path) -> DeliveryPlan:
    """Ten days of deliveries with the default mess: late, duplicated, corrected, malformed."""
    return DeliveryPlan.build(seed=SEED, days=DAYS, cache_dir=jafgen_cache)


@dataclass
class Warehouse:
    """One isolated pipeline: its own landing zone and DuckDB file."""

    settings: Settings

    @property
    def landing(self) -> Path:
        return self.settings.landing_dir

    def run(self, start: date | None, end: date | None, **options: object) -> WindowResult:
        result = process_window(self.settings, start, end, quiet=True, **options)
        failures = [f"{n.unique_id}: {n.message}" for n in result.build.failures()]
        assert result.success, f"window {start}..{end} failed: {failures or result.build.exception}"
        return result

    def query(self, sql: str) -> list[tuple]:
        with duckdb.connect(str(self.settings.duckdb_path)) as con:
            return con.execute(sql).fetchall()

    def columns(self, relation: str) -> list[str]:
        schema, table = relation.split(".")
        rows = self.query(
            "select column_name from information_schema.columns "
            f"where table_schema = '{schema}' and table_name = '{table}' order by ordinal_position"
        )
        return [r[0] for r in rows]

    def checksum(self, relation: str, exclude: tuple[str, ...] = ()) -> tuple[int, str]:
        """Row count and an order-independent digest of every row (engine-neutral formatting)."""
        columns = [c for c in self.columns(relation) if c not in exclude]
        rows = self.query(f"select {', '.join(columns)} from {relation}")
        digests = sorted(hashlib.sha256(_canonical(row).encode()).hexdigest() for row in rows)
        return len(rows), hashlib.sha256("".join(digests).encode()).hexdigest()


def _canonical(row: tuple) -> str:
    def one(value: object) -> str:
        if value is None:
            return "<null>"
        if isinstance(value, Decimal | float):
            return f"{Decimal(str(value)):.4f}"
        if isinstance(value, datetime | date):
            return value.isoformat()
        return str(value)

    return "|".join(one(v) for v in row)


def make_warehouse(root: Path, landing: Path | None = None) -> Warehouse:
    root.mkdir(parents=True, exist_ok=True)
    return Warehouse(
        Settings(
            project_dir=PROJECT_DIR,
            landing_dir=landing or root / "landing",
            duckdb_path=root / "warehouse.duckdb",
        )
    )


@pytest.fixture
def warehouse(tmp_path: Path) -> Warehouse:
    return make_warehouse(tmp_path)
