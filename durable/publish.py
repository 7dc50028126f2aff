"""Write-audit-publish for the DuckDB warehouse: an audit copy of the file, published by rename.

Why a file rename and not schemas behind views: DuckDB admits one writing process per file, so a
run that built inside the production file would lock readers out for the whole build. Here the
run copies production (holding only a read-only connection, which also proves nobody is writing
it), builds and tests the copy, and publishes with `os.replace`: one atomic rename whose cost does
not depend on the size of the tables. A reader opens either the old file or the new one, never a
mix; readers that opened the old file keep reading it undisturbed. A failed audit leaves
production untouched and keeps the copy for inspection.

The copy itself is a sequential file copy (the benchmark reports it). Each publication is also
recorded inside the published file, so after a crash the ledger can tell whether the publish
happened.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb

from durable.failpoints import failpoint
from durable.retry import TransientError, is_transient

PUBLICATIONS = "_durable.publications"


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class DuckDBPublisher:
    def __init__(self, production: Path) -> None:
        self.production = production

    @property
    def audit_path(self) -> Path:
        # The same file name in a sibling folder: DuckDB names a database after its file, and
        # views store qualified names, so the copy must be named like production. The path is
        # fixed (runs are serialised by the run lock), which keeps the dbt profile unchanged and
        # dbt's partial parsing valid between runs. Same filesystem: the rename stays atomic.
        return self.production.parent / "_audit" / self.production.name

    def failed_path(self, run_id: str) -> Path:
        return self.production.parent / "_failed" / run_id / self.production.name

    def _connect_production(self) -> duckdb.DuckDBPyConnection:
        try:
            return duckdb.connect(str(self.production), read_only=True)
        except duckdb.Error as error:
            if is_transient(str(error)):
                raise TransientError(f"{self.production}: {error}") from error
            raise

    def open_audit(self) -> Path:
        """A private copy of production (or a new file when there is none yet) to build in."""
        audit = self.audit_path
        audit.parent.mkdir(parents=True, exist_ok=True)
        self.discard(audit)
        if self.production.exists():
            with self._connect_production():
                shutil.copyfile(self.production, audit)
                wal = self.production.with_name(self.production.name + ".wal")
                if wal.exists():  # left by a writer that died: part of the database
                    shutil.copyfile(wal, audit.with_name(audit.name + ".wal"))
        failpoint("audit:after-copy")
        return audit

    def publish(self, audit: Path, run_id: str, windows: Iterable[tuple[date, date]]) -> None:
        with duckdb.connect(str(audit)) as con:
            con.execute("create schema if not exists _durable")
            con.execute(
                f"""create table if not exists {PUBLICATIONS} (
                    run_id varchar, window_start date, window_end date, published_at timestamp)"""
            )
            published_at = datetime.now(UTC).replace(tzinfo=None)
            for start, end in windows:
                con.execute(
                    f"insert into {PUBLICATIONS} values (?, ?, ?, ?)",
                    [run_id, start, end, published_at],
                )
            con.execute("checkpoint")
        failpoint("publish:before-rename")
        _fsync(audit)
        os.replace(audit, self.production)
        _fsync(self.production.parent)
        failpoint("publish:after-rename")

    def keep_failed(self, audit: Path, run_id: str) -> Path | None:
        if not audit.exists():
            return None
        kept = self.failed_path(run_id)
        kept.parent.mkdir(parents=True, exist_ok=True)
        os.replace(audit, kept)
        return kept

    def discard(self, audit: Path) -> None:
        for leftover in (audit, audit.with_name(audit.name + ".wal")):
            leftover.unlink(missing_ok=True)

    def published_runs(self) -> set[str]:
        if not self.production.exists():
            return set()
        with self._connect_production() as con:
            exists = con.execute(
                "select count(*) from duckdb_tables() "
                "where schema_name = '_durable' and table_name = 'publications'"
            ).fetchone()[0]
            if not exists:
                return set()
            return {row[0] for row in con.execute(f"select run_id from {PUBLICATIONS}").fetchall()}

    def published_files(self, raw_schema: str) -> dict[str, tuple[int, int]]:
        """Landing files production holds, with the size and mtime they were loaded at."""
        if not self.production.exists():
            return {}
        with self._connect_production() as con:
            exists = con.execute(
                "select count(*) from duckdb_tables() "
                "where schema_name = ? and table_name = '_landed_files'",
                [raw_schema],
            ).fetchone()[0]
            if not exists:
                return {}
            rows = con.execute(
                f'select source_file, size_bytes, mtime_ns from "{raw_schema}"._landed_files '
                "where status <> 'rejected'"
            ).fetchall()
        return {name: (size, mtime) for name, size, mtime in rows}
