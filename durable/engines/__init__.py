"""The engines the runner can load and publish with, chosen once from the dbt target.

The target's adapter type decides: the target's name when it is one (`duckdb`, `postgres`,
`spark`, as in this project's profiles.yml), else the `type` its output declares in the project's
profiles.yml. Each engine's package is imported only when chosen: PostgreSQL and Spark need
optional extras.
"""

from __future__ import annotations

from importlib import import_module

import yaml

from durable.config import Settings
from durable.engines.interface import Engine, Loader, Publisher
from durable.errors import BadInput

ENGINES = ("duckdb", "postgres", "spark")

__all__ = ["ENGINES", "Engine", "Loader", "Publisher", "engine_for", "publisher_for"]


def engine_for(settings: Settings) -> Engine:
    name = adapter_type(settings)
    if name not in ENGINES:
        raise BadInput(f"no publisher for target {settings.target!r} ({', '.join(ENGINES)})")
    return import_module(f"durable.engines.{name}").ENGINE


def publisher_for(settings: Settings) -> Publisher:
    return engine_for(settings).publisher(settings)


def adapter_type(settings: Settings) -> str:
    """The target's adapter: its name when that names an engine, else its profile's `type`."""
    if settings.target in ENGINES:
        return settings.target
    try:
        project = yaml.safe_load((settings.project_dir / "dbt_project.yml").read_text()) or {}
        profiles = yaml.safe_load((settings.project_dir / "profiles.yml").read_text()) or {}
        output = profiles[project["profile"]]["outputs"][settings.target]
    except (OSError, KeyError, TypeError, yaml.YAMLError):
        return settings.target  # no such output here: the error names the target
    return str(output.get("type", settings.target)) if isinstance(output, dict) else ""
