"""Shared fixtures: a small simulated source and isolated warehouses to run the pipeline on."""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pytest

from checks import query_function, relation_checksum
from durable.config import Settings
from durable.engines import adapter_type
from durable.pipeline import WindowResult, process_window
from jaffle_simulator import DeliveryPlan

# The reference project: this repository (the runner's own default is the current directory).
PROJECT_DIR = Path(__file__).resolve().parents[2]
SEED = 7
DAYS = 10

# Under pytest-xdist each worker runs dbt in the same project: give each its own target folder
# (manifest, run results for `dbt retry`, partial parse), relative to the project like dbt's own.
if os.environ.get("PYTEST_XDIST_WORKER"):
    os.environ.setdefault("DBT_TARGET_PATH", f"target/pytest-{os.environ['PYTEST_XDIST_WORKER']}")

# dbt's file log at its default (debug) level writes every statement of every node: about a
# tenth of a small build's time, in each of the suite's few hundred builds. The tests read what
# they check from the warehouse, the ledger and dbt's results, never from that log.
os.environ.setdefault("DBT_LOG_LEVEL_FILE", "warn")


def folders_under(root: Path) -> dict[str, Path]:
    """Where a pipeline's landing zone, warehouse file and state live, all under `root`."""
    return {
        "landing_dir": root / "landing",
        "duckdb_path": root / "warehouse" / "prod.duckdb",
        "state_dir": root / "state",
        "prod_state_dir": root / "prod-state",
    }


def settings_under(root: Path, **overrides: Any) -> Settings:
    """The reference project with its landing zone, warehouse and state all under `root`."""
    # project_dir too can be overridden: a copy of the project, in tests that edit it.
    return Settings(**({"project_dir": PROJECT_DIR} | folders_under(root) | overrides))


def copy_published(published: Settings, root: Path) -> Settings:
    """Production as published, in `root`, with a ledger of its own."""
    copy = replace(published, **folders_under(root))
    shutil.copytree(published.landing_dir, copy.landing_dir)
    shutil.copytree(published.prod_state_dir, copy.prod_state_dir)
    copy.duckdb_path.parent.mkdir(parents=True)
    shutil.copy2(published.duckdb_path, copy.duckdb_path)
    return copy


@pytest.fixture(scope="session")
def jafgen_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("jafgen-cache")


@pytest.fixture(scope="session")
def plan(jafgen_cache: Path) -> DeliveryPlan:
    """Ten days of deliveries with the default mess: late, duplicated, corrected, malformed."""
    return DeliveryPlan.build(seed=SEED, days=DAYS, cache_dir=jafgen_cache)


@contextmanager
def connect(settings: Settings) -> Iterator[Any]:
    """A connection to the settings' warehouse: the DuckDB file, or the PostgreSQL database."""
    if adapter_type(settings) == "postgres":
        from durable.engines.postgres.connection import connect as connect_postgres

        con = connect_postgres(settings)
        try:
            yield con
        finally:
            con.rollback()
            con.close()
    else:
        with duckdb.connect(str(settings.duckdb_path)) as con:
            yield con


@dataclass
class Warehouse:
    """One isolated pipeline: its own landing zone and DuckDB file or PostgreSQL database."""

    settings: Settings

    @property
    def landing(self) -> Path:
        return self.settings.landing_dir

    def run(self, start: date | None, end: date | None, **options: object) -> WindowResult:
        result = process_window(self.settings, start, end, quiet=True, **options)
        failures = [f"{n.unique_id}: {n.message}" for n in result.build.failures()]
        assert result.success, f"window {start}..{end} failed: {failures or result.build.exception}"
        return result

    @property
    def engine(self) -> str:
        return adapter_type(self.settings)

    def query(self, sql: str) -> list[tuple]:
        with connect(self.settings) as con:
            return query_function(con)(sql)

    def columns(self, relation: str) -> list[str]:
        schema, table = relation.split(".")
        rows = self.query(
            "select column_name from information_schema.columns "
            f"where table_schema = '{schema}' and table_name = '{table}' order by ordinal_position"
        )
        return [r[0] for r in rows]

    def checksum(self, relation: str, exclude: tuple[str, ...] = ()) -> tuple[int, str]:
        """Row count and an order-independent digest of every row."""
        with connect(self.settings) as con:
            return relation_checksum(con, relation, exclude)


@dataclass(frozen=True)
class PostgresServer:
    """The throw-away server of `scripts/postgres.sh`; each warehouse gets its own database."""

    host: str
    port: int
    user: str

    def new_database(self, settings: Settings) -> Settings:
        """Settings pointing at a fresh, empty database on this server."""
        settings = replace(
            settings,
            target="postgres",
            pg_host=self.host,
            pg_port=self.port,
            pg_user=self.user,
            pg_password="",
            pg_database=f"w_{uuid.uuid4().hex[:16]}",
        )
        from durable.engines.postgres.connection import connect as connect_postgres

        con = connect_postgres(replace(settings, pg_database="postgres"))
        try:
            con.autocommit = True
            with con.cursor() as cursor:
                cursor.execute(f"create database {settings.pg_database}")
        finally:
            con.close()
        return settings


POSTGRES_SCRIPT = PROJECT_DIR / "scripts" / "postgres.sh"
EXIT_CANNOT_INSTALL = 3


@pytest.fixture(scope="session")
def postgres_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PostgresServer]:
    """A PostgreSQL server for the session: `scripts/postgres.sh` installs one when missing."""
    state = tmp_path_factory.mktemp("postgres")
    started = subprocess.run(
        [str(POSTGRES_SCRIPT), "start", str(state)],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    if started.returncode == EXIT_CANNOT_INSTALL:
        pytest.skip(f"PostgreSQL cannot be installed here: {started.stderr.strip()[-300:]}")
    assert started.returncode == 0, f"scripts/postgres.sh start failed: {started.stderr[-2000:]}"
    env = dict(
        line.removeprefix("export ").split("=", 1)
        for line in started.stdout.splitlines()
        if line.startswith("export ")
    )
    try:
        yield PostgresServer(
            env["DURABLE_PG_HOST"], int(env["DURABLE_PG_PORT"]), env["DURABLE_PG_USER"]
        )
    finally:
        subprocess.run([str(POSTGRES_SCRIPT), "stop", str(state)], capture_output=True, timeout=120)


ENGINES = ["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)]


def make_warehouse(
    root: Path, landing: Path | None = None, postgres: PostgresServer | None = None
) -> Warehouse:
    """A DuckDB warehouse in `root`, or, given a server, a new PostgreSQL database on it."""
    root.mkdir(parents=True, exist_ok=True)
    settings = Settings(
        project_dir=PROJECT_DIR,
        landing_dir=landing or root / "landing",
        duckdb_path=root / "warehouse.duckdb",
    )
    if postgres is not None:
        settings = postgres.new_database(settings)
    return Warehouse(settings)


def engine_server(request: pytest.FixtureRequest, engine: str) -> PostgresServer | None:
    """The PostgreSQL server when `engine` is postgres (started on first use), else None."""
    return request.getfixturevalue("postgres_server") if engine == "postgres" else None


@pytest.fixture
def warehouse(tmp_path: Path) -> Warehouse:
    return make_warehouse(tmp_path)
