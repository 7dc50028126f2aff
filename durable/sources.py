"""The landed sources as the dbt project declares them.

The loader must agree with dbt on which entities exist and which columns each delivers. Rather than
keep a second list in Python, it reads the `sources:` YAML of the staging layer, so adding a column
to a source is one edit, in the place analysts already look.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

SOURCES_YAML = Path("models/staging/jaffle/_jaffle__sources.yml")
SOURCE = "jaffle"  # the dbt source the landed entities belong to


@dataclass(frozen=True)
class SourceTable:
    """One landed entity: where its files are and which columns a delivery must carry."""

    name: str
    columns: tuple[str, ...]
    primary_key: tuple[str, ...]
    drift_policy: dict[str, str]
    column_types: dict[str, str]  # column -> what its text must parse as (meta.type)
    # meta.on_bad_file: `quarantine` (the default) sets a file that cannot be loaded aside and
    # goes on with the others; `halt` stops the run, for a source whose day must be complete.
    on_bad_file: str = "quarantine"


def load_source_tables(project_dir: Path) -> list[SourceTable]:
    """Entities of the `jaffle` source, in the order the YAML lists them."""
    document = yaml.safe_load((project_dir / SOURCES_YAML).read_text())
    (source,) = [s for s in document["sources"] if s["name"] == SOURCE]
    source_meta = source.get("meta") or {}
    default_policy = source_meta.get("drift_policy", {})
    tables = []
    for table in source["tables"]:
        if table.get("identifier", "").startswith("_"):
            continue  # the loader's own bookkeeping, not a delivered entity
        meta = table.get("meta") or {}
        tables.append(
            SourceTable(
                name=table["name"],
                columns=tuple(column["name"] for column in table["columns"]),
                primary_key=tuple(meta.get("primary_key", [])),
                drift_policy={**default_policy, **meta.get("drift_policy", {})},
                column_types={
                    column["name"]: column["meta"]["type"]
                    for column in table["columns"]
                    if "type" in (column.get("meta") or {})
                },
                on_bad_file=_bad_file_policy(
                    table["name"], meta.get("on_bad_file", source_meta.get("on_bad_file"))
                ),
            )
        )
    return tables


def _bad_file_policy(table: str, policy: str | None) -> str:
    if policy in (None, "quarantine", "halt"):
        return policy or "quarantine"
    raise ValueError(f"{table}: meta.on_bad_file is {policy!r}; expected quarantine or halt")
