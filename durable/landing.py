"""Loads the landing zone into raw tables: every delivered file once, every row accounted for.

A delivery is a file whose path fits its table's landing pattern, e.g.
`<landing>/<table>/dt=YYYY-MM-DD/part-NNNN.csv` (durable/landing_zone.py says what else may lie
there). Each file is checked and read by `durable.delivery` (every column as
text, so no value can fail the load; typing and row-level checks happen in dbt staging) and
appended with its lineage. Lines the reader cannot split are kept in `_rejected_rows`. A file with
a file-level problem is quarantined whole: recorded with its reason and its rows, it loads nothing,
and the other files go on. A broken re-delivery of a file that had loaded leaves its earlier
version loaded (its ledger row keeps that version's counts, with the new file's size and the
reason), so a bad re-send never takes good rows out of production. Every other path of the
landing zone is kept in `_landing_findings`, held or reported, so the accounting shows it whole.

The ledger `_landed_files` remembers each file's size, mtime, hash and row counts, so a re-run skips
what it has loaded, and a re-delivered (changed) file replaces its earlier rows instead of
appending them twice. Each file is loaded in one transaction with its ledger row: a crash leaves
it loaded or not at all.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import NamedTuple

import duckdb

from durable.delivery import DeliveryRejected, LandedFile, StagedDelivery, stage
from durable.failpoints import failpoint
from durable.landing_zone import Finding, scan_landing_zone
from durable.quoting import quote_identifier as quote
from durable.sources import SourceTable

LINEAGE_COLUMNS = ("_source_file", "_delivery_date", "_row_number", "_loaded_at")
# Column definitions of the raw tables, in SQL that DuckDB and PostgreSQL both take.
LINEAGE_COLUMNS_DDL = (
    "_source_file varchar not null, _delivery_date date not null, "
    "_row_number bigint not null, _loaded_at timestamp not null"
)
LEDGER_COLUMNS_DDL = (
    "source_file varchar primary key, entity varchar not null, delivery_date date not null, "
    "size_bytes bigint not null, mtime_ns bigint not null, sha256 varchar not null, "
    "status varchar not null, rows_delivered bigint not null, rows_loaded bigint not null, "
    "rows_rejected bigint not null, message varchar, loaded_at timestamp not null"
)
FINDINGS_COLUMNS_DDL = (
    "path varchar not null, entity varchar, delivery_date date, status varchar not null, "
    "reason varchar not null, seen_at timestamp not null"
)
REJECTED_COLUMNS_DDL = (
    "entity varchar not null, _source_file varchar not null, _delivery_date date not null, "
    "_row_number bigint not null, raw_line varchar, error_type varchar, "
    "error_message varchar, _loaded_at timestamp not null"
)


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


def discover(
    landing_dir: Path,
    tables: Iterable[SourceTable],
    through: date | None = None,
    future_tolerance_days: int = 1,
) -> tuple[list[LandedFile], list[Finding]]:
    """Deliveries in the landing zone, oldest first (`through` hides later ones), and the
    findings: every other path, held or reported."""
    scan = scan_landing_zone(landing_dir, tables, future_tolerance_days=future_tolerance_days)
    deliveries = [f for f in scan.deliveries if through is None or f.delivery_date <= through]
    return deliveries, scan.findings


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

    def has_loaded(self, landed: LandedFile) -> bool:
        """Whether a version of the file is loaded (not only quarantined)."""
        entry = self.get(landed.source_file)
        return entry is not None and entry.status in ("loaded", "replaced")

    def new_digest(self, landed: LandedFile, stat: os.stat_result) -> str | None:
        """None when the file is the one already loaded (same size and mtime, or else the same
        content); otherwise its sha256, for the ledger row of its load."""
        entry = self.get(landed.source_file)
        if entry and (entry.size_bytes, entry.mtime_ns) == (stat.st_size, stat.st_mtime_ns):
            return None
        digest = _sha256(landed.path)
        return None if entry and entry.sha256 == digest else digest

    def digest_or_unreadable(
        self, landed: LandedFile, stat: os.stat_result
    ) -> tuple[str | None, DeliveryRejected | None]:
        """`new_digest`, or "" and the rejection when the file cannot be read."""
        try:
            return self.new_digest(landed, stat), None
        except OSError as error:
            return "", DeliveryRejected(landed.source_file, f"cannot be read ({error})")

    def record(self, load: FileLoad, stat: os.stat_result, digest: str) -> None:
        if self._entries is not None:
            self._entries[load.source_file] = LedgerEntry(
                stat.st_size, stat.st_mtime_ns, digest, load.status, load.message
            )


class DuckDBLoader:
    """Loads landed files into `<raw_schema>.<relation>` tables of a DuckDB database."""

    def __init__(self, connection: duckdb.DuckDBPyConnection, raw_schema: str) -> None:
        self.con = connection
        self.schema = quote(raw_schema)
        self.ledger = LandedLedger(
            lambda columns: self.con.execute(
                f"select {columns} from {self.schema}._landed_files"
            ).fetchall()
        )

    def ensure_tables(self, tables: Iterable[SourceTable]) -> None:
        self.con.execute(f"create schema if not exists {self.schema}")
        for name, ddl in (
            ("_landed_files", LEDGER_COLUMNS_DDL),
            ("_rejected_rows", REJECTED_COLUMNS_DDL),
            ("_landing_findings", FINDINGS_COLUMNS_DDL),
        ):
            self.con.execute(f"create table if not exists {self.schema}.{name} ({ddl})")
        # Files rejected before the file-level quarantine existed were quarantined in all but name.
        self.con.execute(
            f"update {self.schema}._landed_files set status = 'quarantined' "
            "where status = 'rejected'"
        )
        for table in tables:
            columns = ", ".join(f"{quote(c)} varchar" for c in table.columns)
            self.con.execute(
                f"create table if not exists {self.schema}.{quote(table.relation)} "
                f"({columns}, {LINEAGE_COLUMNS_DDL})"
            )

    def record_findings(self, findings: list[Finding]) -> None:
        """The landing zone's other paths as of this load, replacing the last load's."""
        seen_at = datetime.now(UTC).replace(tzinfo=None)
        self.con.execute("begin transaction")
        self.con.execute(f"delete from {self.schema}._landing_findings")
        rows = findings_rows(findings, seen_at)
        if rows:
            self.con.executemany(
                f"insert into {self.schema}._landing_findings values (?, ?, ?, ?, ?, ?)", rows
            )
        self.con.execute("commit")

    def load_file(self, landed: LandedFile, table: SourceTable) -> FileLoad:
        stat = landed.path.lstat()
        digest, unreadable = self.ledger.digest_or_unreadable(landed, stat)
        if digest is None:
            return FileLoad.unchanged(landed)

        # One timestamp for the file's rows and its ledger row: staging models compare the two
        # to find versions whose file was re-delivered since (macros/incremental_staging.sql).
        loaded_at = datetime.now(UTC).replace(tzinfo=None)
        replacing = self.ledger.get(landed.source_file) is not None
        # One transaction: the file's rows and its ledger row, or nothing.
        self.con.execute("begin transaction")
        try:
            if unreadable:
                raise unreadable
            load = self._copy_rows(landed, table, loaded_at, replacing)
        except DeliveryRejected as rejected:
            self.con.execute("rollback")
            self.con.execute("begin transaction")
            load = FileLoad.quarantined(landed, rejected, self.ledger.has_loaded(landed))
        if load.status == "quarantined" and self.ledger.has_loaded(landed):
            self.con.execute(
                f"""update {self.schema}._landed_files
                set size_bytes = ?, mtime_ns = ?, sha256 = ?, message = ? where source_file = ?""",
                [stat.st_size, stat.st_mtime_ns, digest, load.message, landed.source_file],
            )
        else:
            self.con.execute(
                f"""insert or replace into {self.schema}._landed_files values
                    (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?::timestamp)""",
                [*load.ledger_values(stat.st_size, stat.st_mtime_ns, digest), loaded_at],
            )
        self.con.execute("commit")
        self.ledger.record(load, stat, digest)
        return load

    def _withdraw(self, landed: LandedFile, table: SourceTable) -> None:
        """Remove the rows an earlier version of the file put in the raw tables."""
        for relation in (quote(table.relation), "_rejected_rows"):
            self.con.execute(
                f"delete from {self.schema}.{relation} where _source_file = ?",
                [landed.source_file],
            )

    def _copy_rows(
        self, landed: LandedFile, table: SourceTable, loaded_at: datetime, replacing: bool
    ) -> FileLoad:
        staged = stage(self.con, landed, table)
        if replacing:
            self._withdraw(landed, table)
        columns = ", ".join(quote(c) for c in table.columns)
        lineage = [landed.source_file, landed.delivery_date]
        self.con.execute(
            f"""insert into {self.schema}.{quote(table.relation)}
            select {columns}, ?, ?::date, _row_number, ?::timestamp from _landing_rows""",
            [*lineage, loaded_at],
        )
        self.con.execute(
            f"""insert into {self.schema}._rejected_rows
            select ?, ?, ?::date, _row_number, raw_line, error_type, error_message, ?::timestamp
            from _landing_rejected""",
            [landed.entity, *lineage, loaded_at],
        )
        return FileLoad.staged(landed, staged, replacing)


def load_landing(
    database: Path,
    landing_dir: Path,
    raw_schema: str,
    tables: list[SourceTable],
    through: date | None = None,
    future_tolerance_days: int = 1,
) -> LoadReport:
    """Load every new or changed file delivered up to `through` into the raw tables, and record
    what else lies in the landing zone."""
    by_key = {table.key: table for table in tables}
    report = LoadReport()
    database.parent.mkdir(parents=True, exist_ok=True)
    deliveries, findings = discover(landing_dir, tables, through, future_tolerance_days)
    with duckdb.connect(str(database)) as connection:
        loader = DuckDBLoader(connection, raw_schema)
        loader.ensure_tables(tables)
        loader.record_findings(findings)
        for landed in deliveries:
            table = by_key[landed.source, landed.entity]
            report.files.append(loader.load_file(landed, table))
            failpoint("load:after-file")
    report.findings = findings
    return report
