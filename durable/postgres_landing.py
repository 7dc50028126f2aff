"""The PostgreSQL landing loader: the same checks as DuckDB's, shipped with COPY.

Each file is checked and read by `durable.delivery.stage` in an in-memory DuckDB (the same checks
and the same rows as on DuckDB), then shipped to PostgreSQL with COPY ... FROM STDIN, in one
transaction with its ledger row `<raw>._landed_files`, like `durable.landing`. The raw tables and
the ledger are shared by every audit schema (durable/postgres.py publishes by schema swap).
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from datetime import date

import duckdb
import psycopg2
from psycopg2 import sql

from durable.config import Settings
from durable.delivery import DeliveryRejected, LandedFile, stage
from durable.failpoints import failpoint
from durable.landing import (
    FINDINGS_COLUMNS_DDL,
    LEDGER_COLUMNS_DDL,
    LINEAGE_COLUMNS_DDL,
    REJECTED_COLUMNS_DDL,
    FileLoad,
    LandedLedger,
    LoadReport,
    discover,
    findings_rows,
)
from durable.landing_zone import Finding
from durable.postgres import _ident, connection
from durable.quoting import quote_identifier as quote
from durable.sources import SourceTable


def _csv(con: duckdb.DuckDBPyConnection, query: str, params: list | None = None) -> io.BytesIO:
    """A DuckDB query as CSV text for COPY; null is an unquoted empty field, '' is quoted."""
    rows = con.execute(query, params or []).fetchall()
    buffer = io.StringIO()
    for row in rows:
        fields = []
        for value in row:
            if value is None:
                fields.append("")
            else:
                fields.append('"' + str(value).replace('"', '""') + '"')
        buffer.write(",".join(fields) + "\n")
    return io.BytesIO(buffer.getvalue().encode())


class PostgresLoader:
    """Loads landed files into `<raw_schema>.<relation>` tables of a PostgreSQL database."""

    def __init__(self, con: psycopg2.extensions.connection, raw_schema: str) -> None:
        self.con = con
        self.schema = raw_schema
        self.stager = duckdb.connect(":memory:")
        self.ledger = LandedLedger(self._read_ledger)

    def close(self) -> None:
        self.stager.close()

    def ensure_tables(self, tables: Iterable[SourceTable]) -> None:
        raw = sql.Identifier(self.schema)
        with self.con, self.con.cursor() as cur:
            cur.execute(sql.SQL("create schema if not exists {}").format(raw))
            cur.execute(
                sql.SQL("create table if not exists {} (" + LEDGER_COLUMNS_DDL + ")").format(
                    _ident(self.schema, "_landed_files")
                )
            )
            # The ledger's upsert needs a unique key, also when dbt's on-run-start hook
            # (macros/create_raw_tables.sql) created the table first, without one.
            cur.execute(
                sql.SQL("create unique index if not exists {} on {} (source_file)").format(
                    sql.Identifier("_landed_files__source_file"),
                    _ident(self.schema, "_landed_files"),
                )
            )
            for name, ddl in (
                ("_rejected_rows", REJECTED_COLUMNS_DDL),
                ("_landing_findings", FINDINGS_COLUMNS_DDL),
            ):
                cur.execute(
                    sql.SQL("create table if not exists {} (" + ddl + ")").format(
                        _ident(self.schema, name)
                    )
                )
            # Files rejected before the file-level quarantine were quarantined in all but name.
            cur.execute(
                sql.SQL("update {} set status = 'quarantined' where status = 'rejected'").format(
                    _ident(self.schema, "_landed_files")
                )
            )
            for table in tables:
                columns = sql.SQL(", ").join(
                    sql.SQL("{} varchar").format(sql.Identifier(c)) for c in table.columns
                )
                cur.execute(
                    sql.SQL(
                        "create table if not exists {} ({}, " + LINEAGE_COLUMNS_DDL + ")"
                    ).format(_ident(self.schema, table.relation), columns)
                )
                cur.execute(
                    sql.SQL("create index if not exists {} on {} (_source_file)").format(
                        sql.Identifier(f"{table.relation}__source_file"),
                        _ident(self.schema, table.relation),
                    )
                )

    def _read_ledger(self, columns: str) -> list[tuple]:
        with self.con.cursor() as cur:
            cur.execute(
                sql.SQL("select " + columns + " from {}").format(
                    _ident(self.schema, "_landed_files")
                )
            )
            rows = cur.fetchall()
        self.con.rollback()  # end the read's transaction: each file gets its own
        return rows

    def record_findings(self, findings: list[Finding]) -> None:
        """The landing zone's other paths as of this load, replacing the last load's."""
        relation = _ident(self.schema, "_landing_findings")
        with self.con, self.con.cursor() as cur:
            cur.execute("select localtimestamp")
            (seen_at,) = cur.fetchone()
            cur.execute(sql.SQL("delete from {}").format(relation))
            cur.executemany(
                sql.SQL("insert into {} values (%s, %s, %s, %s, %s, %s)").format(relation),
                findings_rows(findings, seen_at),
            )

    def load_file(self, landed: LandedFile, table: SourceTable) -> FileLoad:
        stat = landed.path.lstat()
        entry = self.ledger.get(landed.source_file)
        digest, unreadable = self.ledger.digest_or_unreadable(landed, stat)
        if entry and digest is None:
            # The ledger is shared by every audit (raw tables are not swapped): a file
            # quarantined by an earlier run stays so until the source re-sends it, as on DuckDB
            # where a failed run's ledger is set aside with its audit copy.
            status = "quarantined" if entry.status == "quarantined" else "unchanged"
            return FileLoad.unchanged(
                landed,
                status=status,
                message=(entry.message or "") if status == "quarantined" else "",
                fresh=False,
            )

        replacing = entry is not None
        try:
            if unreadable:
                raise unreadable
            staged = stage(self.stager, landed, table)
        except DeliveryRejected as rejected:
            load = FileLoad.quarantined(landed, rejected, self.ledger.has_loaded(landed))
        else:
            load = FileLoad.staged(landed, staged, replacing)
        # One transaction: the file's rows and its ledger row, or nothing.
        with self.con, self.con.cursor() as cur:
            if load.status == "quarantined" and self.ledger.has_loaded(landed):
                # A broken re-send: the earlier version stays loaded, with its counts.
                cur.execute(
                    sql.SQL(
                        "update {} set size_bytes = %s, mtime_ns = %s, sha256 = %s, message = %s "
                        "where source_file = %s"
                    ).format(_ident(self.schema, "_landed_files")),
                    [stat.st_size, stat.st_mtime_ns, digest, load.message, landed.source_file],
                )
                self.ledger.record(load, stat, digest)
                return load
            if load.status != "quarantined":
                self._copy_rows(cur, landed, table, replacing)
            cur.execute(
                sql.SQL(
                    """insert into {} values
                    (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, localtimestamp)
                    on conflict (source_file) do update set
                        entity = excluded.entity, delivery_date = excluded.delivery_date,
                        size_bytes = excluded.size_bytes, mtime_ns = excluded.mtime_ns,
                        sha256 = excluded.sha256, status = excluded.status,
                        rows_delivered = excluded.rows_delivered,
                        rows_loaded = excluded.rows_loaded,
                        rows_rejected = excluded.rows_rejected,
                        message = excluded.message, loaded_at = excluded.loaded_at"""
                ).format(_ident(self.schema, "_landed_files")),
                load.ledger_values(stat.st_size, stat.st_mtime_ns, digest),
            )
        self.ledger.record(load, stat, digest)
        return load

    def _withdraw(self, cur, landed: LandedFile, table: SourceTable) -> None:  # noqa: ANN001
        """Remove the rows an earlier version of the file put in the raw tables."""
        for name in (table.relation, "_rejected_rows"):
            cur.execute(
                sql.SQL("delete from {} where _source_file = %s").format(_ident(self.schema, name)),
                [landed.source_file],
            )

    def _copy_rows(self, cur, landed: LandedFile, table: SourceTable, replacing: bool) -> None:  # noqa: ANN001
        target = _ident(self.schema, table.relation)
        rejected = _ident(self.schema, "_rejected_rows")
        if replacing:
            self._withdraw(cur, landed, table)
        # COPY has no defaults for the lineage: the stager adds them, in UTC like DuckDB's now().
        cur.execute("select localtimestamp")
        (loaded_at,) = cur.fetchone()
        lineage = [landed.source_file, landed.delivery_date, loaded_at]
        columns = [*table.columns, "_source_file", "_delivery_date", "_row_number", "_loaded_at"]
        selected = ", ".join(quote(c) for c in table.columns)
        rows = _csv(
            self.stager,
            f"select {selected}, ?, ?, _row_number, ? from _landing_rows order by _row_number",
            lineage,
        )
        cur.copy_expert(
            sql.SQL("copy {} ({}) from stdin with (format csv)")
            .format(target, sql.SQL(", ").join(sql.Identifier(c) for c in columns))
            .as_string(cur),
            rows,
        )
        bad = _csv(
            self.stager,
            "select ?, ?, ?, _row_number, raw_line, error_type, error_message, ? "
            "from _landing_rejected order by _row_number",
            [landed.entity, landed.source_file, landed.delivery_date, loaded_at],
        )
        cur.copy_expert(
            sql.SQL("copy {} from stdin with (format csv)").format(rejected).as_string(cur), bad
        )


def load_landing_postgres(
    settings: Settings, tables: list[SourceTable], through: date | None = None
) -> LoadReport:
    """Load every new or changed file delivered up to `through` into the PostgreSQL raw tables."""
    by_key = {table.key: table for table in tables}
    report = LoadReport()
    with connection(settings) as con:
        con.cursor().execute("set timezone = 'UTC'")
        con.commit()
        loader = PostgresLoader(con, settings.raw_schema)
        deliveries, report.findings = discover(
            settings.landing_dir, tables, through, settings.future_tolerance_days
        )
        try:
            loader.ensure_tables(tables)
            loader.record_findings(report.findings)
            for landed in deliveries:
                table = by_key[landed.source, landed.entity]
                report.files.append(loader.load_file(landed, table))
                failpoint("load:after-file")
        finally:
            loader.close()
    return report
