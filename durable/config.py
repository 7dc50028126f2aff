"""Where things live and how patient to be, read from the environment.

Every setting has a default that works in a fresh dbt project; each can be overridden by the
environment variable named beside it (the same variables the project's `profiles.yml` and source
YAML read: `dbt_environment` hands them to dbt), so tests and CI can point anywhere without
flags. Relative paths are relative to the project directory, wherever the runner is started.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

# Relative to the project directory; see Settings.__post_init__.
PATH_SETTINGS = ("landing_dir", "duckdb_path", "state_dir", "prod_state_dir", "spark_dir")


def default_project_dir() -> Path:
    """DURABLE_PROJECT_DIR, else the current directory, as dbt itself assumes."""
    return Path(os.environ.get("DURABLE_PROJECT_DIR") or Path.cwd()).resolve()


def _path(variable: str, default: str) -> Path:
    return Path(os.environ.get(variable) or default)


def _env(variable: str, default: str) -> str:
    return os.environ.get(variable, default)


@dataclass(frozen=True)
class Settings:
    # DURABLE_PROJECT_DIR (or `durable --project-dir`): the dbt project; the current directory.
    project_dir: Path = field(default_factory=default_project_dir)
    # DURABLE_LANDING_DIR: the landing zone the source system delivers files into.
    landing_dir: Path = field(default_factory=lambda: _path("DURABLE_LANDING_DIR", "data/landing"))
    # DURABLE_DUCKDB_PATH: the warehouse file dbt builds into (production, for the runner).
    duckdb_path: Path = field(
        default_factory=lambda: _path("DURABLE_DUCKDB_PATH", "data/warehouse/warehouse.duckdb")
    )
    # DURABLE_RAW_SCHEMA: where the loader writes raw tables (dbt sources read them).
    raw_schema: str = field(default_factory=lambda: _env("DURABLE_RAW_SCHEMA", "raw"))
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
    # is held, not loaded, until its day comes (durable/landing/zone.py).
    future_tolerance_days: int = field(
        default_factory=lambda: int(_env("DURABLE_FUTURE_TOLERANCE_DAYS", "1"))
    )
    # DURABLE_BUILD_ALL=1: every window builds and tests the whole project, not only what its
    # deliveries feed and the project changed (durable/selection.py).
    build_all: bool = field(default_factory=lambda: _env("DURABLE_BUILD_ALL", "") == "1")
    # DURABLE_PG_HOST / _PORT / _USER / _PASSWORD / _DATABASE: the PostgreSQL target's server
    # (what `scripts/postgres.sh start` prints); read by profiles.yml and durable.engines.postgres.
    pg_host: str = field(default_factory=lambda: _env("DURABLE_PG_HOST", "127.0.0.1"))
    pg_port: int = field(default_factory=lambda: int(_env("DURABLE_PG_PORT", "5432")))
    pg_user: str = field(default_factory=lambda: _env("DURABLE_PG_USER", "durable"))
    pg_password: str = field(default_factory=lambda: _env("DURABLE_PG_PASSWORD", ""))
    pg_database: str = field(default_factory=lambda: _env("DURABLE_PG_DATABASE", "durable"))

    # DURABLE_PROD_STATE_DIR: the manifest of what production runs, which slim CI defers to.
    prod_state_dir: Path = field(
        default_factory=lambda: _path("DURABLE_PROD_STATE_DIR", "data/prod-state")
    )
    # DURABLE_KEEP_PUBLICATIONS: earlier states of production kept for `durable rollback`
    # (DuckDB: files beside production; PostgreSQL: schemas; Spark keeps one, the idle copy).
    keep_publications: int = field(
        default_factory=lambda: int(_env("DURABLE_KEEP_PUBLICATIONS", "3"))
    )
    # DURABLE_SPARK_DIR: the Spark target's metastore and warehouse folder.
    spark_dir: Path = field(default_factory=lambda: _path("DURABLE_SPARK_DIR", "data/spark"))

    def __post_init__(self) -> None:
        # Resolved once here, so a setting means the same file whatever the process's directory
        # later is (dbt and the engines are handed absolute paths).
        object.__setattr__(self, "project_dir", Path(self.project_dir).resolve())
        for name in PATH_SETTINGS:
            value = Path(getattr(self, name))
            if not value.is_absolute():
                object.__setattr__(self, name, self.project_dir / value)

    @property
    def ledger_path(self) -> Path:
        return self.state_dir / "ledger.sqlite"

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
            "DURABLE_SPARK_DIR": str(self.spark_dir),
        }
