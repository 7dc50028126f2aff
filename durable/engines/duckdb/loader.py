"""The DuckDB loader: every delivered file once, into raw tables of the warehouse file.

Each file is checked and read by durable/landing/ (every column as text, so no value can fail the
load; typing and row-level checks happen in dbt staging) and appended with its lineage. Lines the
reader cannot split are kept in `_rejected_rows`. A file with a file-level problem is quarantined
whole: recorded with its reason and its rows, it loads nothing, and the other files go on (a
broken re-send of a loaded file keeps its earlier version: durable/landing/accounting.py). Every
other path of the landing zone is kept in `_landing_findings`, held or reported, so the accounting
shows it whole.

The ledger `_landed_files` remembers each file's size, mtime, hash and row counts, so a re-run
skips what it has loaded, and a re-delivered (changed) file replaces its earlier rows instead of
appending them twice. Each file is loaded in one transaction with its ledger row: a crash leaves
it loaded or not at all.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

import duckdb

from durable.config import Settings
from durable.engines.raw_tables import LEDGER_TABLES, RENAME_REJECTED, raw_table_columns
from durable.failpoints import failpoint
from durable.landing.accounting import (
    FileLoad,
    FileVersion,
    LandedLedger,
    LoadReport,
    findings_rows,
)
from durable.landing.delivery import LandedFile
from durable.landing.quoting import quote_identifier as quote
from durable.landing.zone import Finding
from durable.sources import SourceTable


class DuckDBLoader:
    """Loads deliveries into the settings' DuckDB file (the audit copy, for the runner)."""

    def __init__(self, settings: Settings) -> None:
        self.database = settings.duckdb_path
        self.raw_schema = settings.raw_schema

    def load(
        self,
        tables: Sequence[SourceTable],
        deliveries: Sequence[LandedFile],
        findings: Sequence[Finding],
    ) -> LoadReport:
        by_key = {table.key: table for table in tables}
        report = LoadReport(findings=list(findings))
        self.database.parent.mkdir(parents=True, exist_ok=True)
        with duckdb.connect(str(self.database)) as connection:
            raw = DuckDBRawTables(connection, self.raw_schema)
            raw.ensure_tables(tables)
            raw.record_findings(findings)
            for landed in deliveries:
                report.files.append(raw.load_file(landed, by_key[landed.source, landed.entity]))
                failpoint("load:after-file")
        return report


def qualified(con: duckdb.DuckDBPyConnection, schema: str) -> str:
    """`schema` qualified with the file's own catalog: in a file named like the schema
    (raw.duckdb holding schema raw) a bare `raw.x` is ambiguous, and DuckDB refuses it."""
    (catalog,) = con.execute("select current_database()").fetchone()
    return f"{quote(catalog)}.{quote(schema)}"


class DuckDBRawTables:
    """The raw and ledger tables of one DuckDB connection, `<raw_schema>.<relation>`."""

    def __init__(self, connection: duckdb.DuckDBPyConnection, raw_schema: str) -> None:
        self.con = connection
        self.schema = qualified(connection, raw_schema)
        self.ledger = LandedLedger(
            lambda columns: self.con.execute(
                f"select {columns} from {self.schema}._landed_files"
            ).fetchall()
        )

    def ensure_tables(self, tables: Iterable[SourceTable]) -> None:
        self.con.execute(f"create schema if not exists {self.schema}")
        for name, ddl in LEDGER_TABLES.items():
            self.con.execute(f"create table if not exists {self.schema}.{name} ({ddl})")
        self.con.execute(RENAME_REJECTED.format(ledger=f"{self.schema}._landed_files"))
        for table in tables:
            self.con.execute(
                f"create table if not exists {self.schema}.{quote(table.relation)} "
                f"({raw_table_columns(table)})"
            )
            if table.delete_marker:
                # A table that started sending deletes after its raw table was made.
                self.con.execute(
                    f"alter table {self.schema}.{quote(table.relation)} "
                    f"add column if not exists {quote(table.delete_marker)} varchar"
                )

    def record_findings(self, findings: Sequence[Finding]) -> None:
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
        version = self.ledger.version(landed)
        if version.unchanged:
            return FileLoad.unchanged(landed)
        # One timestamp for the file's rows and its ledger row: staging models compare the two
        # to find versions whose file was re-delivered since (macros/incremental_staging.sql).
        loaded_at = datetime.now(UTC).replace(tzinfo=None)
        # One transaction: the file's rows and its ledger row, or nothing.
        self.con.execute("begin transaction")
        load = version.read(self.con, table)
        if load.status == "quarantined":
            self.con.execute("rollback")  # whatever the read staged
            self.con.execute("begin transaction")
        else:
            self._copy_rows(version, table, loaded_at)
        self._record(load, version, loaded_at)
        self.con.execute("commit")
        self.ledger.record(load, version)
        return load

    def _record(self, load: FileLoad, version: FileVersion, loaded_at: datetime) -> None:
        stat = version.stat
        if load.status == "quarantined" and version.earlier_loaded:
            # A broken re-send: the earlier version stays loaded, with its counts.
            self.con.execute(
                f"""update {self.schema}._landed_files
                set size_bytes = ?, mtime_ns = ?, sha256 = ?, message = ? where source_file = ?""",
                [stat.st_size, stat.st_mtime_ns, version.digest, load.message, load.source_file],
            )
        else:
            self.con.execute(
                f"""insert or replace into {self.schema}._landed_files values
                    (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?::timestamp)""",
                [*load.ledger_values(stat.st_size, stat.st_mtime_ns, version.digest), loaded_at],
            )

    def _copy_rows(self, version: FileVersion, table: SourceTable, loaded_at: datetime) -> None:
        """The staged rows, in place of those of the file's earlier version."""
        landed = version.landed
        if version.replacing:
            for relation in (quote(table.relation), "_rejected_rows"):
                self.con.execute(
                    f"delete from {self.schema}.{relation} where _source_file = ?",
                    [landed.source_file],
                )
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


def published_files(con: duckdb.DuckDBPyConnection, raw_schema: str) -> dict[str, tuple]:
    """Landing files the connection's warehouse holds, as the loader recorded them: the
    publisher's answer for production, and `durable verify`'s in the connection it goes on to
    compare with, so both see one version of the file."""
    exists = con.execute(
        "select count(*) from duckdb_tables() where database_name = current_database() "
        "and schema_name = ? and table_name = '_landed_files'",
        [raw_schema],
    ).fetchone()[0]
    if not exists:
        return {}
    rows = con.execute(
        "select source_file, size_bytes, mtime_ns, status, message "
        f"from {qualified(con, raw_schema)}._landed_files"
    ).fetchall()
    return {name: tuple(held) for name, *held in rows}
