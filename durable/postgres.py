"""The PostgreSQL target: the landing loader (COPY) and write-audit-publish by schema swap.

Loading: each file is checked and read by `durable.delivery.stage` in an in-memory DuckDB (the
same checks and the same rows as on DuckDB), then shipped to PostgreSQL with COPY ... FROM STDIN,
in one transaction with its ledger row `<raw>._landed_files`, like `durable.landing`.

Publishing: production is a schema (`analytics`). A run builds and tests in `analytics__audit`,
which starts as a copy of production's tables (incremental marts and snapshots carry history; views
and full tables dbt rebuilds anyway). Publishing renames the schemas in one transaction, which
costs the same whatever the size of the tables; a reader sees the old schema or the new one. Raw
tables are shared by both schemas, so what production holds and which runs it published are
recorded inside the published schema (`_durable_publications`, `_durable_published_files`).
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import replace
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
from durable.quoting import quote_identifier as quote
from durable.retry import TransientError, is_transient
from durable.sources import SourceTable

PUBLICATIONS = "_durable_publications"
PUBLISHED_FILES = "_durable_published_files"


def connect(settings: Settings) -> psycopg2.extensions.connection:
    """A connection to the target's server; a refused or dropped one is a TransientError."""
    try:
        return psycopg2.connect(
            host=settings.pg_host,
            port=settings.pg_port,
            user=settings.pg_user,
            password=settings.pg_password or None,
            dbname=settings.pg_database,
            application_name="durable",
        )
    except psycopg2.OperationalError as error:
        if is_transient(str(error)):
            raise TransientError(
                f"postgres {settings.pg_host}:{settings.pg_port}: {error}"
            ) from None
        raise


@contextmanager
def connection(settings: Settings) -> Iterator[psycopg2.extensions.connection]:
    con = connect(settings)
    try:
        yield con
    finally:
        con.close()


def _ident(*names: str) -> sql.Composed:
    return sql.SQL(".").join(sql.Identifier(n) for n in names)


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
    """Loads landed files into `<raw_schema>.<entity>` tables of a PostgreSQL database."""

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
                    ).format(_ident(self.schema, table.name), columns)
                )
                cur.execute(
                    sql.SQL("create index if not exists {} on {} (_source_file)").format(
                        sql.Identifier(f"{table.name}__source_file"),
                        _ident(self.schema, table.name),
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
        try:
            digest = self.ledger.new_digest(landed, stat)
        except OSError as error:
            digest = ""
            unreadable = DeliveryRejected(landed.source_file, f"cannot be read ({error})")
        else:
            unreadable = None
        if entry and digest is None:
            # The ledger is shared by every audit (raw tables are not swapped): a file
            # quarantined by an earlier run stays so until the source re-sends it, as on DuckDB
            # where a failed run's ledger is set aside with its audit copy.
            status = "quarantined" if entry.status == "quarantined" else "unchanged"
            return FileLoad(
                landed.source_file,
                landed.entity,
                landed.delivery_date,
                status,
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
        for name in (table.name, "_rejected_rows"):
            cur.execute(
                sql.SQL("delete from {} where _source_file = %s").format(_ident(self.schema, name)),
                [landed.source_file],
            )

    def _copy_rows(self, cur, landed: LandedFile, table: SourceTable, replacing: bool) -> None:  # noqa: ANN001
        target = _ident(self.schema, table.name)
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
    by_name = {table.name: table for table in tables}
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
                report.files.append(loader.load_file(landed, by_name[landed.entity]))
                failpoint("load:after-file")
        finally:
            loader.close()
    return report


class PostgresPublisher:
    """Write-audit-publish with schemas: build in `<schema>__audit`, publish by renaming it."""

    copies_every_relation = False  # tables only: each build recreates the views

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.production = settings.schema
        self.audit = f"{settings.schema}__audit"

    def audit_settings(self) -> Settings:
        return replace(self.settings, schema=self.audit)

    def failed_schema(self, run_id: str) -> str:
        return f"{self.production}__failed_{run_id}"

    @contextmanager
    def _transaction(self) -> Iterator[psycopg2.extensions.cursor]:
        """One transaction; transient server errors become TransientError."""
        try:
            with connection(self.settings) as con, con, con.cursor() as cur:
                cur.execute("set timezone = 'UTC'")
                yield cur
        except psycopg2.Error as error:
            if is_transient(str(error)):
                raise TransientError(f"postgres: {error}") from error
            raise

    @staticmethod
    def _schema_exists(cur, schema: str) -> bool:  # noqa: ANN001
        cur.execute("select 1 from pg_namespace where nspname = %s", [schema])
        return cur.fetchone() is not None

    @staticmethod
    def _table_exists(cur, schema: str, table: str) -> bool:  # noqa: ANN001
        cur.execute(
            "select 1 from information_schema.tables where table_schema = %s and table_name = %s",
            [schema, table],
        )
        return cur.fetchone() is not None

    def open_audit(self) -> None:
        """A fresh audit schema holding a copy of every table of production."""
        with self._transaction() as cur:
            cur.execute(sql.SQL("drop schema if exists {} cascade").format(_ident(self.audit)))
            cur.execute(sql.SQL("create schema {}").format(_ident(self.audit)))
            cur.execute(
                "select table_name from information_schema.tables "
                "where table_schema = %s and table_type = 'BASE TABLE' order by table_name",
                [self.production],
            )
            for (table,) in cur.fetchall():
                source, copy = _ident(self.production, table), _ident(self.audit, table)
                # LIKE keeps the columns' types, not-null constraints and defaults (contracts).
                cur.execute(sql.SQL("create table {} (like {} including all)").format(copy, source))
                cur.execute(sql.SQL("insert into {} select * from {}").format(copy, source))
        failpoint("audit:after-copy")

    def publish(self, run_id: str, windows: Iterable[tuple[date, date]]) -> None:
        production, audit = _ident(self.production), _ident(self.audit)
        old = _ident(f"{self.production}__old")
        publications = _ident(self.audit, PUBLICATIONS)
        files = _ident(self.audit, PUBLISHED_FILES)
        landed = _ident(self.settings.raw_schema, "_landed_files")
        with self._transaction() as cur:
            cur.execute(
                sql.SQL(
                    """create table if not exists {} (
                    run_id varchar, window_start date, window_end date, published_at timestamp)"""
                ).format(publications)
            )
            for start, end in windows:
                cur.execute(
                    sql.SQL("insert into {} values (%s, %s, %s, localtimestamp)").format(
                        publications
                    ),
                    [run_id, start, end],
                )
            # The landing files this schema was built from (the raw tables are shared).
            cur.execute(sql.SQL("drop table if exists {}").format(files))
            cur.execute(
                sql.SQL(
                    "create table {} as "
                    "select source_file, size_bytes, mtime_ns, status, message from {}"
                ).format(files, landed)
            )
            failpoint("publish:before-rename")
            has_production = self._schema_exists(cur, self.production)
            if has_production:
                cur.execute(sql.SQL("drop schema if exists {} cascade").format(old))
                cur.execute(sql.SQL("alter schema {} rename to {}").format(production, old))
            cur.execute(sql.SQL("alter schema {} rename to {}").format(audit, production))
            if has_production:
                cur.execute(sql.SQL("drop schema {} cascade").format(old))
        failpoint("publish:after-rename")

    def keep_failed(self, run_id: str) -> str | None:
        kept = self.failed_schema(run_id)
        with self._transaction() as cur:
            if not self._schema_exists(cur, self.audit):
                return None
            cur.execute(sql.SQL("drop schema if exists {} cascade").format(_ident(kept)))
            cur.execute(
                sql.SQL("alter schema {} rename to {}").format(_ident(self.audit), _ident(kept))
            )
        return f"{self.settings.pg_database}.{kept}"

    def discard_audit(self) -> None:
        with self._transaction() as cur:
            cur.execute(sql.SQL("drop schema if exists {} cascade").format(_ident(self.audit)))

    def published_runs(self) -> set[str]:
        with self._transaction() as cur:
            if not self._table_exists(cur, self.production, PUBLICATIONS):
                return set()
            cur.execute(
                sql.SQL("select run_id from {}").format(_ident(self.production, PUBLICATIONS))
            )
            return {row[0] for row in cur.fetchall()}

    def published_files(self) -> dict[str, tuple[int, int, str, str | None]]:
        with self._transaction() as cur:
            if not self._table_exists(cur, self.production, PUBLISHED_FILES):
                return {}
            cur.execute(
                sql.SQL("select source_file, size_bytes, mtime_ns, status, message from {}").format(
                    _ident(self.production, PUBLISHED_FILES)
                )
            )
            return {name: tuple(held) for name, *held in cur.fetchall()}

    def rows_changed(self, invocations: list[str]) -> dict[str, int]:
        """Rows each incremental model inserted or changed, read from `_invocation_id`."""
        if not invocations:
            return {}
        changed = {}
        with self._transaction() as cur:
            cur.execute(
                "select c.table_name from information_schema.columns as c "
                "join information_schema.tables as t "
                "on t.table_schema = c.table_schema and t.table_name = c.table_name "
                "where c.table_schema = %s and c.column_name = '_invocation_id' "
                "and t.table_type = 'BASE TABLE'",
                [self.audit],
            )
            for (table,) in cur.fetchall():
                cur.execute(
                    sql.SQL("select count(*) from {} where _invocation_id = any(%s)").format(
                        _ident(self.audit, table)
                    ),
                    [invocations],
                )
                changed[table] = cur.fetchone()[0]
        return changed
