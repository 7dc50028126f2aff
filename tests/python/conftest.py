"""Shared fixtures: a small simulated source and isolated warehouses to run the pipeline on."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import pytest

from checks import relation_checksum
from durable.config import PROJECT_DIR, Settings
from durable.pipeline import WindowResult, process_window
from durable.simulator import DeliveryPlan

SEED = 7
DAYS = 10


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
        """Row count and an order-independent digest of every row."""
        with duckdb.connect(str(self.settings.duckdb_path)) as con:
            return relation_checksum(con, relation, exclude)


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
