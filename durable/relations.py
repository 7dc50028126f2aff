"""The relations production publishes, read from dbt's manifest, for `durable verify`.

Nothing here names a project's models: every model and snapshot that dbt materializes is a
relation to compare, with its key (the column of its `unique` test, else its `unique_key`), its
event-time column (`meta.audit_window_column`, the one the window's audit already uses) and the
columns that differ between two correct builds by design.
"""

from __future__ import annotations

from dataclasses import dataclass

from dbt.contracts.graph.manifest import Manifest

# Written by the run, not derived from the deliveries: which dbt invocation last wrote a row
# (durable_merge), and when the loader read its file. A rebuild differs in them by construction.
RUN_LINEAGE = ("_invocation_id", "_loaded_at")
# dbt's own snapshot bookkeeping: validity timestamps are when a snapshot ran, not the data.
SNAPSHOT_META = ("dbt_scd_id", "dbt_updated_at", "dbt_valid_from", "dbt_valid_to", "dbt_is_deleted")
# The loader's lineage of the version a snapshot holds: a snapshot keeps the version it saw
# first, so when a file re-delivers a row unchanged (same values, same `updated_at`),
# production's snapshot names the earlier file and a rebuild, which sees both at once, may name
# the later one. Models take them from staging, which a rebuild derives the same way.
SNAPSHOT_LINEAGE = ("_source_file", "_delivery_date", "_row_number")
# A model may name more run-time columns of its own: `meta: {verify_exclude: [column, ...]}`.
EXCLUDE_META = "verify_exclude"


@dataclass(frozen=True)
class Relation:
    unique_id: str
    schema: str
    name: str
    key: tuple[str, ...] | None
    window_column: str | None
    excluded: frozenset[str]  # lower-case column names left out of the comparison
    current_only: str | None = None  # a snapshot: compare rows where this column is null

    @property
    def label(self) -> str:
        return f"{self.schema}.{self.name}"


def published_relations(manifest: Manifest) -> list[Relation]:
    """Every materialized model and enabled snapshot, in the manifest's order of names."""
    unique_columns = _unique_test_columns(manifest)
    relations = []
    for node in manifest.nodes.values():
        resource = str(node.resource_type)
        if resource not in ("model", "snapshot") or not node.config.enabled:
            continue
        if node.config.materialized == "ephemeral":
            continue
        meta = node.config.meta or {}
        excluded = {*RUN_LINEAGE, *(str(c) for c in meta.get(EXCLUDE_META, []))}
        current_only = None
        if resource == "snapshot":
            names = node.config.snapshot_table_column_names
            excluded |= {names.get(c, c) for c in SNAPSHOT_META} | set(SNAPSHOT_LINEAGE)
            current_only = names["dbt_valid_to"]
        relations.append(
            Relation(
                unique_id=node.unique_id,
                schema=node.schema,
                name=node.alias or node.name,
                key=unique_columns.get(node.unique_id) or _unique_key(node.config.unique_key),
                window_column=meta.get("audit_window_column"),
                excluded=frozenset(c.lower() for c in excluded),
                current_only=current_only,
            )
        )
    return sorted(relations, key=lambda r: r.label)


def _unique_test_columns(manifest: Manifest) -> dict[str, tuple[str, ...]]:
    """The column of each node's `unique` test (the first by name when there are several)."""
    found: dict[str, tuple[str, ...]] = {}
    for test in sorted(manifest.nodes.values(), key=lambda n: n.unique_id):
        metadata = getattr(test, "test_metadata", None)
        attached = getattr(test, "attached_node", None)
        if metadata is None or metadata.name != "unique" or not attached:
            continue
        column = metadata.kwargs.get("column_name")
        if isinstance(column, str) and column and attached not in found:
            found[attached] = (column,)
    return found


def _unique_key(key: object) -> tuple[str, ...] | None:
    """A `unique_key` config: one column or a list. For delete+insert it may name a group of
    rows (a file, a day) rather than a row; differing keys then name the groups that differ."""
    if isinstance(key, str) and key:
        return tuple(part.strip() for part in key.split(",")) if "," in key else (key,)
    if isinstance(key, list | tuple) and key:
        return tuple(str(part) for part in key)
    return None
