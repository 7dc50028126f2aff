"""The landing-zone contract: columns, paths, and how one delivery file is rendered and written.

What this module writes is what the reference project declares in its source YAML
(`models/staging/jaffle/_jaffle__sources.yml`: the columns, primary keys and `meta.durable.path`
the runner loads by); tests/python/test_simulator.py checks that the two agree. Rendering is
separate from planning so that `scale` replicas and schema-drift faults are applied while
streaming a file out, without materialising millions of row objects.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import uuid
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

COLUMNS: dict[str, tuple[str, ...]] = {
    "customers": ("id", "name", "updated_at"),
    "orders": (
        "id",
        "customer",
        "ordered_at",
        "store_id",
        "subtotal",
        "tax_paid",
        "order_total",
        "status",
        "updated_at",
    ),
    "items": ("id", "order_id", "sku", "updated_at"),
    "products": ("sku", "name", "type", "price", "description", "updated_at"),
    "stores": ("id", "name", "opened_at", "tax_rate", "updated_at"),
    "supplies": ("id", "name", "cost", "perishable", "sku", "updated_at"),
}
KEYS: dict[str, tuple[str, ...]] = {
    "customers": ("id",),
    "orders": ("id",),
    "items": ("id",),
    "products": ("sku",),
    "stores": ("id",),
    "supplies": ("id", "sku"),
}
# The optional column of a delete (the source YAML's meta.durable.delete_marker): only files
# holding a delete carry it, just before updated_at; `true` marks the delete row.
DELETE_MARKER = "is_deleted"
DELETABLE = ("customers", "orders", "items")
# Columns holding ids that `scale` replicas rewrite (uuid5 of the original id and the copy number).
REPLICATED_ID_COLUMNS: dict[str, tuple[int, ...]] = {
    "customers": (0,),
    "orders": (0, 1),
    "items": (0, 1),
}
REPLICA_NAMESPACE = uuid.UUID("6f0c3c43-5a53-4bb8-9d0e-0d6a9a4b7c15")
TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%S"
FILE_NAME = "part-0000.csv"


def relative_path(entity: str, day: date) -> str:
    """`<entity>/dt=YYYY-MM-DD/part-0000.csv`, relative to the landing directory."""
    return f"{entity}/dt={day.isoformat()}/{FILE_NAME}"


_REPLICA_HASH = hashlib.sha1(REPLICA_NAMESPACE.bytes)
_VARIANT = {c: "89ab"[int(c, 16) & 3] for c in "0123456789abcdef"}


def replica_id(original: str, copy: int) -> str:
    """The id of copy `copy` (>= 1) of a row: `uuid5(REPLICA_NAMESPACE, f"{original}#{copy}")`.

    Spelled out with hashlib because `uuid.uuid5` is the bottleneck when writing millions of
    replicas; the test suite checks both give the same string.
    """
    digest = _REPLICA_HASH.copy()
    digest.update(f"{original}#{copy}".encode())
    x = digest.hexdigest()
    return f"{x[:8]}-{x[8:12]}-5{x[13:16]}-{_VARIANT[x[16]]}{x[17:20]}-{x[20:32]}"


@dataclass(slots=True, eq=False)
class Row:
    """One data row of one delivery file, with why it is there.

    `role` is one of: original (first correct delivery of a row version), duplicate (second copy in
    the same file), resent (unchanged copy of the previous day's row), malformed (broken value,
    fixed next day), fix (the correct re-send of a malformed row), conflict (fault: same key,
    other values), delete (the source deleted the key: key and updated_at only). `fault` names
    the fault that touched the row; such rows are never replicated.
    """

    values: list[str]
    updated: date
    sort_key: tuple[object, ...]
    role: str = "original"
    correction: bool = False
    fault: str | None = None


@dataclass(slots=True)
class Drift:
    """A schema change applied to every row of a file: added, dropped, renamed or retyped column."""

    kind: str  # column_added | column_dropped | column_renamed | column_retyped_text | ..._decimal
    column: str
    new_name: str = ""


@dataclass(slots=True)
class FileSpec:
    """Everything needed to render one delivery file."""

    entity: str
    day: date
    rows: list[Row] = field(default_factory=list)
    drifts: list[Drift] = field(default_factory=list)
    encoding: str = "utf-8"
    bom: bool = False
    truncate: bool = False

    @property
    def path(self) -> str:
        return relative_path(self.entity, self.day)


def _as_amount(value: str, suffix: str) -> str:
    try:
        return f"{int(value) / 100:.2f}{suffix}"
    except ValueError:
        return value


def _drifted(header: list[str], rows: list[list[str]], drift: Drift) -> list[str]:
    """Apply one drift to the header and (in place) to the rows; return the new header."""
    if drift.kind == "column_added":
        choices = ("web", "app", "store")
        for i, row in enumerate(rows):
            row.append(choices[i % len(choices)])
        return [*header, drift.new_name]
    index = header.index(drift.column)
    if drift.kind == "column_dropped":
        for row in rows:
            del row[index]
        return header[:index] + header[index + 1 :]
    if drift.kind == "column_renamed":
        return header[:index] + [drift.new_name] + header[index + 1 :]
    suffix = " USD" if drift.kind == "column_retyped_text" else ""
    for row in rows:
        row[index] = _as_amount(row[index], suffix)
    return header


def render(spec: FileSpec, scale: int = 1) -> bytes:
    """The exact bytes of a delivery file: base rows first, then `scale - 1` replicas of each."""
    rows = [list(row.values) for row in spec.rows]
    id_columns = REPLICATED_ID_COLUMNS.get(spec.entity)
    if id_columns and scale > 1:
        replicable = [row.values for row in spec.rows if row.fault is None]
        for copy in range(1, scale):
            for values in replicable:
                replica = list(values)
                for column in id_columns:
                    if replica[column]:
                        replica[column] = replica_id(replica[column], copy)
                rows.append(replica)
    header = list(COLUMNS[spec.entity])
    if any(row.role == "delete" for row in spec.rows):
        deletes = [row.role == "delete" for row in spec.rows]
        if id_columns and scale > 1:
            replicated = [row.role == "delete" for row in spec.rows if row.fault is None]
            deletes += replicated * (scale - 1)
        header.insert(len(header) - 1, DELETE_MARKER)
        for row, deleted in zip(rows, deletes, strict=True):
            row.insert(len(row) - 1, "true" if deleted else "")
    for drift in spec.drifts:
        header = _drifted(header, rows, drift)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    text = buffer.getvalue()
    if spec.truncate and rows:
        last_line_start = text.rindex("\n", 0, len(text) - 1) + 1
        last_line_length = len(text) - 1 - last_line_start
        text = text[: last_line_start + max(1, last_line_length // 2)]
    data = text.encode(spec.encoding, errors="replace")
    return b"\xef\xbb\xbf" + data if spec.bom else data


def write_atomically(path: Path, data: bytes) -> bool:
    """Write `data` to `path` unless it already holds exactly those bytes; return True if written.

    Leaving identical files untouched keeps their mtime, so a re-run of the simulator never looks
    like a new delivery. The temporary name starts with a dot and does not end in .csv, so a loader
    globbing `part-*.csv` never sees a half-written file.
    """
    if path.exists() and path.stat().st_size == len(data) and path.read_bytes() == data:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
    return True
