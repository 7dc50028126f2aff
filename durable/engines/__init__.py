"""The engines the runner can load and publish with, chosen once from the dbt target.

The adapter `type` of the profile's output decides (`duckdb`, `postgres`, `spark`), whatever the
output is called: the output dbt itself would use, read by dbt's profile machinery
(durable/profile.py). Each engine's package is imported only when chosen: PostgreSQL and Spark
need optional extras.
"""

from __future__ import annotations

from importlib import import_module

from durable.config import Settings
from durable.engines.interface import Engine, Loader, Publisher
from durable.errors import BadInput

ENGINES = ("duckdb", "postgres", "spark")

__all__ = ["ENGINES", "Engine", "Loader", "Publisher", "engine_for", "publisher_for"]


def engine_for(settings: Settings) -> Engine:
    output = settings.profile_output()
    if output.adapter not in ENGINES:
        raise BadInput(
            f"no publisher for target {output.target!r} of profile {output.profile!r}: its type "
            f"is {output.adapter!r} (the runner has {', '.join(ENGINES)})"
        )
    return import_module(f"durable.engines.{output.adapter}").ENGINE


def publisher_for(settings: Settings) -> Publisher:
    return engine_for(settings).publisher(settings)


def adapter_type(settings: Settings) -> str:
    """The adapter `type` of the profile output the settings select."""
    return settings.profile_output().adapter
