"""Where things live and how patient to be, read from the environment.

Every setting has a default that works in a fresh dbt project; each can be overridden by the
environment variable named beside it (the same variables the project's `profiles.yml` and source
YAML read: `dbt_environment` hands them to dbt), so tests and CI can point anywhere without
flags. Relative paths are relative to the project directory, wherever the runner is started;
DBT_PROFILES_DIR alone is read as dbt reads it, from the current directory.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from durable.errors import BadInput
from durable.profile import ProfileOutput, default_profiles_dir, resolve_output

# Relative to the project directory; see Settings.__post_init__.
PATH_SETTINGS = ("landing_dir", "duckdb_path", "state_dir", "prod_state_dir", "spark_dir")
# A default that depends on the project (its profile): filled in by Settings.__post_init__.
FROM_PROJECT = Path("<from the project>")
# The warehouse file when the profile names none (another adapter, or a profile dbt cannot read).
DEFAULT_DUCKDB_PATH = Path("data/warehouse/warehouse.duckdb")


def default_project_dir() -> Path:
    """DURABLE_PROJECT_DIR, else the current directory, as dbt itself assumes."""
    return Path(os.environ.get("DURABLE_PROJECT_DIR") or Path.cwd()).resolve()


def _path(variable: str, default: str) -> Path:
    return Path(os.environ.get(variable) or default)


def _env(variable: str, default: str) -> str:
    return os.environ.get(variable, default)


def _float(variable: str, default: str) -> float:
    """A numeric setting; a value that is not a number is bad input naming the variable."""
    text = _env(variable, default)
    try:
        return float(text)
    except ValueError:
        raise BadInput(f"invalid {variable}={text!r}: expected a number") from None


def _int(variable: str, default: str) -> int:
    value = _float(variable, default)
    if not value.is_integer():
        raise BadInput(f"invalid {variable}={_env(variable, default)!r}: expected a whole number")
    return int(value)


@dataclass(frozen=True)
class Settings:
    # DURABLE_PROJECT_DIR (or `durable --project-dir`): the dbt project; the current directory.
    project_dir: Path = field(default_factory=default_project_dir)
    # DURABLE_LANDING_DIR: the landing zone the source system delivers files into.
    landing_dir: Path = field(default_factory=lambda: _path("DURABLE_LANDING_DIR", "data/landing"))
    # DBT_PROFILES_DIR (or `durable --profiles-dir`): the folder of profiles.yml; else the
    # project folder when it holds one, else ~/.dbt.
    profiles_dir: Path = field(default_factory=lambda: _path("DBT_PROFILES_DIR", str(FROM_PROJECT)))
    # DBT_TARGET (or `durable --target`): which output of the profile to use; unset, the
    # profile's own `target:`, as in dbt.
    target: str | None = field(default_factory=lambda: os.environ.get("DBT_TARGET") or None)
    # DURABLE_DUCKDB_PATH: the warehouse file dbt builds into (production, for the runner); else
    # the `path` of the profile's DuckDB output, else data/warehouse/warehouse.duckdb.
    duckdb_path: Path = field(
        default_factory=lambda: _path("DURABLE_DUCKDB_PATH", str(FROM_PROJECT))
    )
    # DURABLE_RAW_SCHEMA: where the loader writes raw tables (dbt sources read them).
    raw_schema: str = field(default_factory=lambda: _env("DURABLE_RAW_SCHEMA", "raw"))
    # DURABLE_SCHEMA: the schema the models are built in.
    schema: str = field(default_factory=lambda: _env("DURABLE_SCHEMA", "analytics"))
    # DURABLE_STATE_DIR: the run ledger, the run lock and the production manifest.
    state_dir: Path = field(default_factory=lambda: _path("DURABLE_STATE_DIR", "data/state"))
    # DURABLE_LOCK_TIMEOUT: seconds a run waits for another to finish before giving up.
    lock_timeout: float = field(default_factory=lambda: _float("DURABLE_LOCK_TIMEOUT", "60"))
    # DURABLE_RETRY_ATTEMPTS / DURABLE_RETRY_MAX_SECONDS / DURABLE_RETRY_WAIT: transient faults.
    retry_attempts: int = field(default_factory=lambda: _int("DURABLE_RETRY_ATTEMPTS", "5"))
    retry_max_seconds: float = field(
        default_factory=lambda: _float("DURABLE_RETRY_MAX_SECONDS", "300")
    )
    retry_wait: float = field(default_factory=lambda: _float("DURABLE_RETRY_WAIT", "1"))
    # DURABLE_ALERT_COMMAND: a shell command that receives a JSON payload on stdin on failure.
    alert_command: str = field(default_factory=lambda: _env("DURABLE_ALERT_COMMAND", ""))
    # DURABLE_FUTURE_TOLERANCE_DAYS: a delivery dated later than today (UTC) plus this many days
    # is held, not loaded, until its day comes (durable/landing/zone.py).
    future_tolerance_days: int = field(
        default_factory=lambda: _int("DURABLE_FUTURE_TOLERANCE_DAYS", "1")
    )
    # DURABLE_BATCH_DAYS: at most this many consecutive due days are built together, in one
    # audit copy and one dbt invocation, and published at once (a catch-up); 1 heals day by day.
    batch_days: int = field(default_factory=lambda: _int("DURABLE_BATCH_DAYS", "31"))
    # DURABLE_BUILD_ALL=1: every window builds and tests the whole project, not only what its
    # deliveries feed and the project changed (durable/selection.py).
    build_all: bool = field(default_factory=lambda: _env("DURABLE_BUILD_ALL", "") == "1")
    # DURABLE_PG_HOST / _PORT / _USER / _PASSWORD / _DATABASE: the PostgreSQL target's server
    # (what `scripts/postgres.sh start` prints); read by profiles.yml and durable.engines.postgres.
    pg_host: str = field(default_factory=lambda: _env("DURABLE_PG_HOST", "127.0.0.1"))
    pg_port: int = field(default_factory=lambda: _int("DURABLE_PG_PORT", "5432"))
    pg_user: str = field(default_factory=lambda: _env("DURABLE_PG_USER", "durable"))
    pg_password: str = field(default_factory=lambda: _env("DURABLE_PG_PASSWORD", ""))
    pg_database: str = field(default_factory=lambda: _env("DURABLE_PG_DATABASE", "durable"))

    # DURABLE_PROD_STATE_DIR: the manifest of what production runs, which slim CI defers to.
    prod_state_dir: Path = field(
        default_factory=lambda: _path("DURABLE_PROD_STATE_DIR", "data/prod-state")
    )
    # DURABLE_KEEP_PUBLICATIONS: earlier states of production kept for `durable rollback`
    # (DuckDB: files beside production; PostgreSQL: schemas; Spark keeps one, the idle copy).
    keep_publications: int = field(default_factory=lambda: _int("DURABLE_KEEP_PUBLICATIONS", "3"))
    # DURABLE_PREPARE_AUDIT_COPY=0: a DuckDB run that published does not copy production for the
    # next run (durable/engines/duckdb/prepared.py); that run then copies it before its build.
    prepare_audit_copy: bool = field(
        default_factory=lambda: _env("DURABLE_PREPARE_AUDIT_COPY", "1") != "0"
    )
    # DURABLE_SPARK_DIR: the Spark target's metastore and warehouse folder.
    spark_dir: Path = field(default_factory=lambda: _path("DURABLE_SPARK_DIR", "data/spark"))

    def __post_init__(self) -> None:
        # Resolved once here, so a setting means the same file whatever the process's directory
        # later is (dbt and the engines are handed absolute paths).
        object.__setattr__(self, "project_dir", Path(self.project_dir).resolve())
        if self.profiles_dir == FROM_PROJECT:
            object.__setattr__(self, "profiles_dir", default_profiles_dir(self.project_dir))
        object.__setattr__(self, "profiles_dir", Path(self.profiles_dir).resolve())
        if self.duckdb_path == FROM_PROJECT:
            object.__setattr__(self, "duckdb_path", self._profile_duckdb_path())
        if self.batch_days < 1:
            raise BadInput(f"invalid DURABLE_BATCH_DAYS={self.batch_days}: 1 or more days")
        for name in PATH_SETTINGS:
            value = Path(getattr(self, name))
            if not value.is_absolute():
                object.__setattr__(self, name, self.project_dir / value)

    def _profile_duckdb_path(self) -> Path:
        """The `path` of the profile's DuckDB output, rendered by dbt (relative ones from the
        project, where a plain `dbt build` resolves them); the default for another adapter or
        for a profile dbt cannot read, which dbt reports itself when the run calls it."""
        try:
            output = resolve_output(self.project_dir, self.profiles_dir, self.target, os.environ)
        except BadInput:
            return DEFAULT_DUCKDB_PATH
        return output.duckdb_file or DEFAULT_DUCKDB_PATH

    @property
    def ledger_path(self) -> Path:
        return self.state_dir / "ledger.sqlite"

    def profile_output(self) -> ProfileOutput:
        """The output of profiles.yml dbt uses with these settings (BadInput when there is
        none)."""
        environment = {**os.environ, **self.dbt_environment()}
        return resolve_output(self.project_dir, self.profiles_dir, self.target, environment)

    def target_name(self) -> str:
        """The output dbt uses: the target set, else the profile's own `target:`; empty when dbt
        cannot read the profile (the build says why)."""
        if self.target:
            return self.target
        try:
            return self.profile_output().target
        except BadInput:
            return ""

    def dbt_environment(self) -> dict[str, str]:
        """Variables profiles.yml and the sources read, pinned to these settings."""
        # DBT_TARGET only when set: unset, dbt (and a profile's env_var) keep the profile's own.
        target = {"DBT_TARGET": self.target} if self.target else {}
        return {
            "DBT_PROFILES_DIR": str(self.profiles_dir),
            "DURABLE_DUCKDB_PATH": str(self.duckdb_path),
            "DURABLE_RAW_SCHEMA": self.raw_schema,
            "DURABLE_SCHEMA": self.schema,
            **target,
            "DURABLE_PG_HOST": self.pg_host,
            "DURABLE_PG_PORT": str(self.pg_port),
            "DURABLE_PG_USER": self.pg_user,
            "DURABLE_PG_PASSWORD": self.pg_password,
            "DURABLE_PG_DATABASE": self.pg_database,
            "DURABLE_SPARK_DIR": str(self.spark_dir),
        }
