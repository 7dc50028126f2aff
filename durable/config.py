"""Where things live and how patient to be, read once from the environment.

Every setting has a default that works from a fresh clone; each can be overridden by the
environment variable named beside it (the same variables `profiles.yml` reads), so tests and CI
can point anywhere without flags.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

# DURABLE_PROJECT_DIR: the dbt project (this repository unless set).
PROJECT_DIR = Path(os.environ.get("DURABLE_PROJECT_DIR") or Path(__file__).resolve().parent.parent)


def _path(variable: str, default: str) -> Path:
    value = Path(os.environ.get(variable, default))
    return value if value.is_absolute() else PROJECT_DIR / value


def _env(variable: str, default: str) -> str:
    return os.environ.get(variable, default)


@dataclass(frozen=True)
class Settings:
    project_dir: Path = PROJECT_DIR
    # DURABLE_LANDING_DIR: the landing zone the source system delivers files into.
    landing_dir: Path = field(default_factory=lambda: _path("DURABLE_LANDING_DIR", "data/landing"))
    # DURABLE_DUCKDB_PATH: the warehouse file dbt builds into (production, for the runner).
    duckdb_path: Path = field(
        default_factory=lambda: _path("DURABLE_DUCKDB_PATH", "data/warehouse/jaffle_shop.duckdb")
    )
    # DURABLE_RAW_SCHEMA: where the loader writes raw tables (dbt sources read them).
    raw_schema: str = field(default_factory=lambda: _env("DURABLE_RAW_SCHEMA", "raw_jaffle"))
    # DURABLE_SCHEMA: the schema the models are built in.
    schema: str = field(default_factory=lambda: _env("DURABLE_SCHEMA", "analytics"))
    # DBT_TARGET: which output of profiles.yml to use.
    target: str = field(default_factory=lambda: _env("DBT_TARGET", "duckdb"))
    # DURABLE_STATE_DIR: the run ledger, the run lock and the production manifest.
    state_dir: Path = field(default_factory=lambda: _path("DURABLE_STATE_DIR", "data/state"))
    # DURABLE_LOCK_TIMEOUT: seconds a run waits for another to finish before giving up.
    lock_timeout: float = field(default_factory=lambda: float(_env("DURABLE_LOCK_TIMEOUT", "60")))
    # DURABLE_RETRY_ATTEMPTS / DURABLE_RETRY_MAX_SECONDS / DURABLE_RETRY_WAIT: transient faults.
    retry_attempts: int = field(default_factory=lambda: int(_env("DURABLE_RETRY_ATTEMPTS", "5")))
    retry_max_seconds: float = field(
        default_factory=lambda: float(_env("DURABLE_RETRY_MAX_SECONDS", "300"))
    )
    retry_wait: float = field(default_factory=lambda: float(_env("DURABLE_RETRY_WAIT", "1")))
    # DURABLE_ALERT_COMMAND: a shell command that receives a JSON payload on stdin on failure.
    alert_command: str = field(default_factory=lambda: _env("DURABLE_ALERT_COMMAND", ""))
    # DURABLE_FUTURE_TOLERANCE_DAYS: a delivery dated later than today (UTC) plus this many days
    # is held, not loaded, until its day comes (durable/landing_zone.py).
    future_tolerance_days: int = field(
        default_factory=lambda: int(_env("DURABLE_FUTURE_TOLERANCE_DAYS", "1"))
    )
    # DURABLE_BUILD_ALL=1: every window builds and tests the whole project, not only what its
    # deliveries feed and the project changed (durable/selection.py).
    build_all: bool = field(default_factory=lambda: _env("DURABLE_BUILD_ALL", "") == "1")
    # DURABLE_PG_HOST / _PORT / _USER / _PASSWORD / _DATABASE: the PostgreSQL target's server
    # (what `scripts/postgres.sh start` prints); read by profiles.yml and durable.postgres.
    pg_host: str = field(default_factory=lambda: _env("DURABLE_PG_HOST", "127.0.0.1"))
    pg_port: int = field(default_factory=lambda: int(_env("DURABLE_PG_PORT", "5432")))
    pg_user: str = field(default_factory=lambda: _env("DURABLE_PG_USER", "durable"))
    pg_password: str = field(default_factory=lambda: _env("DURABLE_PG_PASSWORD", ""))
    pg_database: str = field(default_factory=lambda: _env("DURABLE_PG_DATABASE", "durable"))

    @property
    def ledger_path(self) -> Path:
        return self.state_dir / "ledger.sqlite"

    # DURABLE_PROD_STATE_DIR: the manifest of what production runs, which slim CI defers to.
    prod_state_dir: Path = field(
        default_factory=lambda: _path("DURABLE_PROD_STATE_DIR", "data/prod-state")
    )

    def dbt_environment(self) -> dict[str, str]:
        """Variables profiles.yml and the sources read, pinned to these settings."""
        return {
            "DBT_PROFILES_DIR": str(self.project_dir),
            "DURABLE_DUCKDB_PATH": str(self.duckdb_path),
            "DURABLE_RAW_SCHEMA": self.raw_schema,
            "DURABLE_SCHEMA": self.schema,
            "DBT_TARGET": self.target,
            "DURABLE_PG_HOST": self.pg_host,
            "DURABLE_PG_PORT": str(self.pg_port),
            "DURABLE_PG_USER": self.pg_user,
            "DURABLE_PG_PASSWORD": self.pg_password,
            "DURABLE_PG_DATABASE": self.pg_database,
        }
