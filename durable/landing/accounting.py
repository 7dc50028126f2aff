"""What a load did with each delivery, and what the ledger `_landed_files` says of it.

Every engine's loader keeps the same ledger and decides the same way, here: a file whose size and
mtime (or else content) match its ledger row is unchanged and not read again; a changed file
replaces the rows of its earlier version; a file that cannot be read is quarantined whole, and
when an earlier version of it had loaded, that version stays loaded (a bad re-send never takes
good rows out of production). Only how rows and ledger rows are written differs per engine.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import NamedTuple

import duckdb

from durable.landing.delivery import DeliveryRejected, LandedFile, StagedDelivery, stage
from durable.landing.zone import Finding
from durable.sources import SourceTable


@dataclass
class FileLoad:
    source_file: str
    entity: str
    delivery_date: date
    status: str  # loaded | replaced | unchanged | quarantined
    rows_delivered: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    message: str = ""  # why it was quarantined, or drift that was accepted and reported
    fresh: bool = True  # read in this load (not an earlier load's verdict, carried over)
    source: str = ""  # the dbt source of `entity` (not in the ledger, whose format predates it)

    @classmethod
    def unchanged(
        cls, landed: LandedFile, status: str = "unchanged", message: str = "", fresh: bool = True
    ) -> FileLoad:
        """A file this load did not read: the ledger holds its version (`status` as recorded)."""
        return cls(
            landed.source_file,
            landed.entity,
            landed.delivery_date,
            status,
            message=message,
            fresh=fresh,
            source=landed.source,
        )

    @classmethod
    def quarantined(
        cls, landed: LandedFile, rejected: DeliveryRejected, earlier_loaded: bool
    ) -> FileLoad:
        kept = (
            "; its earlier version stays loaded until a readable one comes"
            if earlier_loaded
            else ""
        )
        return cls(
            landed.source_file,
            landed.entity,
            landed.delivery_date,
            "quarantined",
            rows_delivered=rejected.rows_delivered,
            message=rejected.problem + kept,
            source=landed.source,
        )

    @classmethod
    def staged(cls, landed: LandedFile, staged: StagedDelivery, replacing: bool) -> FileLoad:
        return cls(
            landed.source_file,
            landed.entity,
            landed.delivery_date,
            "replaced" if replacing else "loaded",
            rows_delivered=staged.rows_delivered,
            rows_loaded=staged.rows_loaded,
            rows_rejected=staged.rows_rejected,
            message="; ".join(staged.warnings),
            source=landed.source,
        )

    def ledger_values(self, size_bytes: int, mtime_ns: int, sha256: str) -> list[object]:
        """The `_landed_files` row of this load, in column order, less `loaded_at`."""
        return [
            self.source_file,
            self.entity,
            self.delivery_date,
            size_bytes,
            mtime_ns,
            sha256,
            self.status,
            self.rows_delivered,
            self.rows_loaded,
            self.rows_rejected,
            self.message,
        ]


@dataclass
class LoadReport:
    files: list[FileLoad] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)  # what else lies in the landing zone
    sources: list[str] = field(default_factory=list)  # the landed sources it looked for

    @property
    def new_files(self) -> list[FileLoad]:
        return [f for f in self.files if f.status in ("loaded", "replaced")]

    @property
    def quarantined(self) -> list[FileLoad]:
        return [f for f in self.files if f.status == "quarantined"]

    def totals(self) -> dict[str, int]:
        return {
            "files": len(self.new_files),
            "rows_delivered": sum(f.rows_delivered for f in self.new_files),
            "rows_loaded": sum(f.rows_loaded for f in self.new_files),
            "rows_rejected": sum(f.rows_rejected for f in self.new_files),
        }


def findings_rows(findings: Iterable[Finding], seen_at: datetime) -> list[tuple]:
    """`_landing_findings` rows, in column order."""
    return [(f.path, f.entity, f.delivery_date, f.status, f.reason, seen_at) for f in findings]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


class LedgerEntry(NamedTuple):
    """What `_landed_files` says of one file."""

    size_bytes: int
    mtime_ns: int
    sha256: str
    status: str
    message: str | None


@dataclass(frozen=True)
class FileVersion:
    """A delivery as it lies now, against what the ledger recorded of it."""

    landed: LandedFile
    stat: os.stat_result
    entry: LedgerEntry | None  # None: a file the ledger has never seen
    digest: str | None  # its sha256; None when it is the version recorded; "" when unreadable
    unreadable: DeliveryRejected | None = None

    @property
    def unchanged(self) -> bool:
        return self.digest is None

    @property
    def replacing(self) -> bool:
        return self.entry is not None

    @property
    def earlier_loaded(self) -> bool:
        """A version of the file is loaded (not only quarantined): a broken one leaves it."""
        return self.entry is not None and self.entry.status in ("loaded", "replaced")

    def read(self, con: duckdb.DuckDBPyConnection, table: SourceTable) -> FileLoad:
        """Check and stage the file in `con` (temp tables `_landing_rows`, `_landing_rejected`):
        the load of its rows, or its quarantine with the reason."""
        try:
            if self.unreadable:
                raise self.unreadable
            staged = stage(con, self.landed, table)
        except DeliveryRejected as rejected:
            return FileLoad.quarantined(self.landed, rejected, self.earlier_loaded)
        return FileLoad.staged(self.landed, staged, self.replacing)


class LandedLedger:
    """`_landed_files` as a loader sees it during one load: read in one query, not one per
    landed file, and kept up to date as the load records each file."""

    COLUMNS = "source_file, size_bytes, mtime_ns, sha256, status, message"

    def __init__(self, read: Callable[[str], Iterable[Sequence]]) -> None:
        self._read = read  # runs `select <COLUMNS> from _landed_files`, given the columns
        self._entries: dict[str, LedgerEntry] | None = None

    def get(self, source_file: str) -> LedgerEntry | None:
        if self._entries is None:
            self._entries = {name: LedgerEntry(*entry) for name, *entry in self._read(self.COLUMNS)}
        return self._entries.get(source_file)

    def version(self, landed: LandedFile) -> FileVersion:
        """The file against its ledger row: unchanged (same size and mtime, or else the same
        content), or its digest for the ledger row of its load; unreadable files say why."""
        stat = landed.path.lstat()
        entry = self.get(landed.source_file)
        if entry and (entry.size_bytes, entry.mtime_ns) == (stat.st_size, stat.st_mtime_ns):
            return FileVersion(landed, stat, entry, None)
        try:
            digest = _sha256(landed.path)
        except OSError as error:
            rejected = DeliveryRejected(landed.source_file, f"cannot be read ({error})")
            return FileVersion(landed, stat, entry, "", rejected)
        return FileVersion(
            landed, stat, entry, None if entry and entry.sha256 == digest else digest
        )

    def record(self, load: FileLoad, version: FileVersion) -> None:
        if self._entries is not None:
            stat = version.stat
            self._entries[load.source_file] = LedgerEntry(
                stat.st_size, stat.st_mtime_ns, version.digest or "", load.status, load.message
            )
