"""The PostgreSQL loader: the same checks as every engine's, shipped with COPY.

Each file is checked and read by durable/landing/ in an in-memory DuckDB (the same checks and the
same rows as on DuckDB), then shipped to PostgreSQL with COPY ... FROM STDIN, in one transaction
with its ledger row `<raw>._landed_files`. The raw tables and the ledger are shared by every audit
schema (the publisher swaps schemas of models only), so a file quarantined by an earlier run
stays quarantined until the source re-sends it, as on DuckDB where a failed run's ledger is set
aside with its audit copy.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import duckdb
import psycopg2
from psycopg2 import sql

from durable.config import Settings
from durable.engines.postgres.connection import connection, ident
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

LINEAGE = ("_source_file", "_delivery_date", "_row_number", "_loaded_at")
UPSERT_LEDGER = """insert into {} values
    (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, localtimestamp)
    on conflict (source_file) do update set
        entity = excluded.entity, delivery_date = excluded.delivery_date,
        size_bytes = excluded.size_bytes, mtime_ns = excluded.mtime_ns,
        sha256 = excluded.sha256, status = excluded.status,
        rows_delivered = excluded.rows_delivered, rows_loaded = excluded.rows_loaded,
        rows_rejected = excluded.rows_rejected,
        message = excluded.message, loaded_at = excluded.loaded_at"""


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
    """Loads deliveries into `<raw_schema>.<relation>` tables of the settings' database."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.schema = settings.raw_schema

    def load(
        self,
        tables: Sequence[SourceTable],
        deliveries: Sequence[LandedFile],
        findings: Sequence[Finding],
    ) -> LoadReport:
        by_key = {table.key: table for table in tables}
        report = LoadReport(findings=list(findings))
        with connection(self.settings) as con, duckdb.connect(":memory:") as stager:
            con.cursor().execute("set timezone = 'UTC'")
            con.commit()
            raw = _RawTables(con, stager, self.schema)
            raw.ensure_tables(tables)
            raw.record_findings(findings)
            for landed in deliveries:
                report.files.append(raw.load_file(landed, by_key[landed.source, landed.entity]))
                failpoint("load:after-file")
        return report


class _RawTables:
    """The raw and ledger tables over one connection; files are staged in `stager`."""

    def __init__(
        self, con: psycopg2.extensions.connection, stager: duckdb.DuckDBPyConnection, schema: str
    ) -> None:
        self.con = con
        self.stager = stager
        self.schema = schema
        self.ledger = LandedLedger(self._read_ledger)

    def ensure_tables(self, tables: Sequence[SourceTable]) -> None:
        ledger = ident(self.schema, "_landed_files")
        with self.con, self.con.cursor() as cur:
            cur.execute(sql.SQL("create schema if not exists {}").format(ident(self.schema)))
            for name, ddl in LEDGER_TABLES.items():
                cur.execute(
                    sql.SQL("create table if not exists {} (" + ddl + ")").format(
                        ident(self.schema, name)
                    )
                )
            # The ledger's upsert needs a unique key, also when a dbt on-run-start hook created
            # the table first, without one.
            cur.execute(
                sql.SQL("create unique index if not exists {} on {} (source_file)").format(
                    sql.Identifier("_landed_files__source_file"), ledger
                )
            )
            cur.execute(sql.SQL(RENAME_REJECTED.format(ledger="{}")).format(ledger))
            for table in tables:
                relation = ident(self.schema, table.relation)
                cur.execute(
                    sql.SQL(
                        "create table if not exists {} (" + raw_table_columns(table) + ")"
                    ).format(relation)
                )
                if table.delete_marker:
                    # A table that started sending deletes after its raw table was made.
                    cur.execute(
                        sql.SQL("alter table {} add column if not exists {} text").format(
                            relation, sql.Identifier(table.delete_marker)
                        )
                    )
                cur.execute(
                    sql.SQL("create index if not exists {} on {} (_source_file)").format(
                        sql.Identifier(f"{table.relation}__source_file"), relation
                    )
                )

    def _read_ledger(self, columns: str) -> list[tuple]:
        with self.con.cursor() as cur:
            cur.execute(
                sql.SQL("select " + columns + " from {}").format(
                    ident(self.schema, "_landed_files")
                )
            )
            rows = cur.fetchall()
        self.con.rollback()  # end the read's transaction: each file gets its own
        return rows

    def record_findings(self, findings: Sequence[Finding]) -> None:
        """The landing zone's other paths as of this load, replacing the last load's."""
        relation = ident(self.schema, "_landing_findings")
        with self.con, self.con.cursor() as cur:
            cur.execute("select localtimestamp")
            (seen_at,) = cur.fetchone()
            cur.execute(sql.SQL("delete from {}").format(relation))
            cur.executemany(
                sql.SQL("insert into {} values (%s, %s, %s, %s, %s, %s)").format(relation),
                findings_rows(findings, seen_at),
            )

    def load_file(self, landed: LandedFile, table: SourceTable) -> FileLoad:
        version = self.ledger.version(landed)
        entry = version.entry
        if entry and version.unchanged:
            # The ledger is shared by every audit: a file quarantined by an earlier run stays so.
            quarantined = entry.status == "quarantined"
            return FileLoad.unchanged(
                landed,
                status="quarantined" if quarantined else "unchanged",
                message=(entry.message or "") if quarantined else "",
                fresh=False,
            )
        load = version.read(self.stager, table)
        stat = version.stat
        # One transaction: the file's rows and its ledger row, or nothing.
        with self.con, self.con.cursor() as cur:
            if load.status == "quarantined" and version.earlier_loaded:
                # A broken re-send: the earlier version stays loaded, with its counts.
                kept = [stat.st_size, stat.st_mtime_ns, version.digest, load.message]
                cur.execute(
                    sql.SQL(
                        "update {} set size_bytes = %s, mtime_ns = %s, sha256 = %s, message = %s "
                        "where source_file = %s"
                    ).format(ident(self.schema, "_landed_files")),
                    [*kept, load.source_file],
                )
            else:
                if load.status != "quarantined":
                    self._copy_rows(cur, version, table)
                cur.execute(
                    sql.SQL(UPSERT_LEDGER).format(ident(self.schema, "_landed_files")),
                    load.ledger_values(stat.st_size, stat.st_mtime_ns, version.digest or ""),
                )
        self.ledger.record(load, version)
        return load

    def _copy_rows(
        self, cur: psycopg2.extensions.cursor, version: FileVersion, table: SourceTable
    ) -> None:
        """The staged rows, in place of those of the file's earlier version."""
        landed = version.landed
        if version.replacing:
            for name in (table.relation, "_rejected_rows"):
                cur.execute(
                    sql.SQL("delete from {} where _source_file = %s").format(
                        ident(self.schema, name)
                    ),
                    [landed.source_file],
                )
        # COPY has no defaults for the lineage: the stager adds them, in UTC like DuckDB's now().
        cur.execute("select localtimestamp")
        (loaded_at,) = cur.fetchone()
        lineage = [landed.source_file, landed.delivery_date, loaded_at]
        columns = sql.SQL(", ").join(sql.Identifier(c) for c in (*table.columns, *LINEAGE))
        selected = ", ".join(quote(c) for c in table.columns)
        rows = _csv(
            self.stager,
            f"select {selected}, ?, ?, _row_number, ? from _landing_rows order by _row_number",
            lineage,
        )
        cur.copy_expert(
            sql.SQL("copy {} ({}) from stdin with (format csv)")
            .format(ident(self.schema, table.relation), columns)
            .as_string(cur),
            rows,
        )
        bad = _csv(
            self.stager,
            "select ?, ?, ?, _row_number, raw_line, error_type, error_message, ? "
            "from _landing_rejected order by _row_number",
            [landed.entity, *lineage],
        )
        cur.copy_expert(
            sql.SQL("copy {} from stdin with (format csv)")
            .format(ident(self.schema, "_rejected_rows"))
            .as_string(cur),
            bad,
        )
