"""Write-audit-publish on PostgreSQL, by schema swap.

Publishing: production is a schema (`analytics`). A run builds and tests in `analytics__audit`,
which starts as a copy of production's tables (incremental marts and snapshots carry history; views
and full tables dbt rebuilds anyway). Publishing renames the schemas in one transaction, which
costs the same whatever the size of the tables; a reader sees the old schema or the new one. Raw
tables are shared by both schemas, so what production holds and which runs it published are
recorded inside the published schema (`_durable_publications`, `_durable_published_files`).

The schema a publish replaces is kept for `durable rollback`, renamed
`<schema>__kept_<time>_<run>` (the last DURABLE_KEEP_PUBLICATIONS of them): it costs the
tables' disk space, nothing to make.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, date, datetime

import psycopg2
from psycopg2 import sql

from durable.config import Settings
from durable.engines.interface import KeptState, PublishedFiles
from durable.engines.postgres.connection import connection, ident
from durable.failpoints import failpoint
from durable.retry import TransientError, is_transient

PUBLICATIONS = "_durable_publications"
PUBLISHED_FILES = "_durable_published_files"
KEPT = "__kept_"  # <schema>__kept_<time>_<run>: a state production was in


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
            cur.execute(sql.SQL("drop schema if exists {} cascade").format(ident(self.audit)))
            cur.execute(sql.SQL("create schema {}").format(ident(self.audit)))
            cur.execute(
                "select table_name from information_schema.tables "
                "where table_schema = %s and table_type = 'BASE TABLE' order by table_name",
                [self.production],
            )
            for (table,) in cur.fetchall():
                source, copy = ident(self.production, table), ident(self.audit, table)
                # LIKE keeps the columns' types, not-null constraints and defaults (contracts).
                cur.execute(sql.SQL("create table {} (like {} including all)").format(copy, source))
                cur.execute(sql.SQL("insert into {} select * from {}").format(copy, source))
        failpoint("audit:after-copy")

    def publish(self, run_id: str, windows: Iterable[tuple[date, date]]) -> None:
        production, audit = ident(self.production), ident(self.audit)
        publications = ident(self.audit, PUBLICATIONS)
        files = ident(self.audit, PUBLISHED_FILES)
        landed = ident(self.settings.raw_schema, "_landed_files")
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
            if self._schema_exists(cur, self.production):
                self._keep_production(cur, run_id)
            cur.execute(sql.SQL("alter schema {} rename to {}").format(audit, production))
            self._prune_kept(cur)
        failpoint("publish:after-rename")

    def read_production(self, query: str) -> list[tuple]:
        with self._transaction() as cur:
            cur.execute(query)
            return cur.fetchall()

    def literal(self, text: str) -> str:
        return "'" + text.replace("'", "''") + "'"

    def _keep_production(self, cur, replaced_by: str) -> None:  # noqa: ANN001
        """Production renamed aside (dropped when nothing is to be kept), in the caller's
        transaction: the rename that follows makes another schema production."""
        if self.settings.keep_publications < 1:
            cur.execute(sql.SQL("drop schema {} cascade").format(ident(self.production)))
            return
        stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S%f")
        kept = f"{self.production}{KEPT}{stamp}_{replaced_by}"
        cur.execute(
            sql.SQL("alter schema {} rename to {}").format(ident(self.production), ident(kept))
        )

    def _kept_schemas(self, cur) -> list[str]:  # noqa: ANN001
        cur.execute(
            "select nspname from pg_namespace where starts_with(nspname, %s) order by 1 desc",
            [self.production + KEPT],
        )
        return [name for (name,) in cur.fetchall()]

    def _prune_kept(self, cur) -> None:  # noqa: ANN001
        for stale in self._kept_schemas(cur)[max(self.settings.keep_publications, 0) :]:
            cur.execute(sql.SQL("drop schema {} cascade").format(ident(stale)))

    def kept_states(self) -> list[KeptState]:
        with self._transaction() as cur:
            names = self._kept_schemas(cur)
        states = []
        for name in names:
            stamp, _, replaced_by = name.removeprefix(self.production + KEPT).partition("_")
            kept_at = datetime.strptime(stamp, "%Y%m%d%H%M%S%f").replace(tzinfo=UTC)
            states.append(KeptState(replaced_by, kept_at.isoformat(), name))
        return states

    def restore(self, state: KeptState, rollback_id: str) -> None:
        """Two renames in one transaction: production aside, the kept schema in its place."""
        with self._transaction() as cur:
            self._keep_production(cur, rollback_id)
            failpoint("rollback:before-rename")
            cur.execute(
                sql.SQL("alter schema {} rename to {}").format(
                    ident(state.location), ident(self.production)
                )
            )
            self._prune_kept(cur)

    def prepare_next_audit(self) -> None:
        """Nothing readied ahead: open_audit copies production's tables inside the server."""

    def keep_failed(self, run_id: str) -> str | None:
        kept = self.failed_schema(run_id)
        with self._transaction() as cur:
            if not self._schema_exists(cur, self.audit):
                return None
            cur.execute(sql.SQL("drop schema if exists {} cascade").format(ident(kept)))
            cur.execute(
                sql.SQL("alter schema {} rename to {}").format(ident(self.audit), ident(kept))
            )
        return f"{self.settings.pg_database}.{kept}"

    def discard_audit(self) -> None:
        with self._transaction() as cur:
            cur.execute(sql.SQL("drop schema if exists {} cascade").format(ident(self.audit)))

    def published_runs(self) -> set[str]:
        with self._transaction() as cur:
            if not self._table_exists(cur, self.production, PUBLICATIONS):
                return set()
            cur.execute(
                sql.SQL("select run_id from {}").format(ident(self.production, PUBLICATIONS))
            )
            return {row[0] for row in cur.fetchall()}

    def published_files(self) -> PublishedFiles:
        with self._transaction() as cur:
            if not self._table_exists(cur, self.production, PUBLISHED_FILES):
                return {}
            cur.execute(
                sql.SQL("select source_file, size_bytes, mtime_ns, status, message from {}").format(
                    ident(self.production, PUBLISHED_FILES)
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
                        ident(self.audit, table)
                    ),
                    [invocations],
                )
                changed[table] = cur.fetchone()[0]
        return changed
