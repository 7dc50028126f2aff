"""Where things live, read once from the environment so tests and CI can point anywhere.

Every setting has a default that works from a fresh clone; each can be overridden by the
environment variable named beside it (the same variables `profiles.yml` reads).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent


def _path(variable: str, default: str) -> Path:
    value = Path(os.environ.get(variable, default))
    return value if value.is_absolute() else PROJECT_DIR / value


@dataclass(frozen=True)
class Settings:
    project_dir: Path = PROJECT_DIR
    # DURABLE_LANDING_DIR: the landing zone the source system delivers files into.
    landing_dir: Path = field(default_factory=lambda: _path("DURABLE_LANDING_DIR", "data/landing"))
    # DURABLE_DUCKDB_PATH: the warehouse file (the DuckDB target).
    duckdb_path: Path = field(
        default_factory=lambda: _path("DURABLE_DUCKDB_PATH", "data/warehouse/jaffle_shop.duckdb")
    )
    # DURABLE_RAW_SCHEMA: where the loader writes raw tables (dbt sources read them).
    raw_schema: str = field(
        default_factory=lambda: os.environ.get("DURABLE_RAW_SCHEMA", "raw_jaffle")
    )
    # DBT_TARGET: which output of profiles.yml to use.
    target: str = field(default_factory=lambda: os.environ.get("DBT_TARGET", "duckdb"))

    def dbt_environment(self) -> dict[str, str]:
        """Variables profiles.yml and the sources read, pinned to these settings."""
        return {
            "DBT_PROFILES_DIR": str(self.project_dir),
            "DURABLE_DUCKDB_PATH": str(self.duckdb_path),
            "DURABLE_RAW_SCHEMA": self.raw_schema,
            "DBT_TARGET": self.target,
        }
