"""Write-audit-publish for the DuckDB warehouse: an audit copy of the file, published by rename.

Why a file rename and not schemas behind views: DuckDB admits one writing process per file, so a
run that built inside the production file would lock readers out for the whole build. Here the
run copies production (holding only a read-only connection, which also proves nobody is writing
it), builds and tests the copy, and publishes with `os.replace`: one atomic rename whose cost does
not depend on the size of the tables. A reader opens either the old file or the new one, never a
mix; readers that opened the old file keep reading it undisturbed. A failed audit leaves
production untouched and keeps the copy for inspection.

The copy is a reflink where the filesystem has them (XFS, Btrfs: milliseconds, whatever the size)
and a sequential file copy elsewhere (ext4: it grows with the warehouse; see clone.py; the
benchmark reports both). Where it is a byte copy, the next run's copy is made right after a
publish, by a process of its own (prepared.py), so a daily run finds it ready. Each publication
is also recorded inside the published file, so after a crash the ledger can tell whether the
publish happened.

The state a publish replaces is kept for `durable rollback`: a hard link to the old file, made
before the rename, in `_kept/<time>-<run>/` (the last DURABLE_KEEP_PUBLICATIONS of them). It costs
no copy; on disk it costs what the old file does not share with the new one: the blocks the
run changed on XFS and Btrfs (the audit copy was a reflink of it), the whole file elsewhere.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Literal

import duckdb

from durable.config import Settings
from durable.engines.duckdb.clone import CopyMethod, clone_file
from durable.engines.duckdb.loader import published_files, qualified
from durable.engines.duckdb.prepared import (
    empty_trash,
    start_preparing,
    take,
    tidy,
    to_trash,
    trash_dir,
)
from durable.engines.interface import KeptState, PublishedFiles
from durable.errors import BadInput
from durable.failpoints import failpoint
from durable.landing.quoting import quote_identifier as quote
from durable.retry import TransientError, is_transient

PUBLICATIONS = "_durable.publications"


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def require_profile_builds_in(settings: Settings) -> None:
    """Stop unless dbt, given these settings, builds in their DuckDB file.

    dbt finds a copy (the audit's, verify's scratch) only through the profile's `path`: one that
    ignores DURABLE_DUCKDB_PATH would build straight into another file, production perhaps, and
    the gate would be gone without a word."""
    output = settings.profile_output()
    if output.duckdb_file != settings.duckdb_path:
        raise BadInput(
            f"profiles.yml: the path of output {output.target!r} of profile {output.profile!r} "
            f"is {output.fields.get('path')!r}, not the copy the runner builds in; it must read "
            "DURABLE_DUCKDB_PATH, e.g. path: \"{{ env_var('DURABLE_DUCKDB_PATH', "
            "'data/warehouse/warehouse.duckdb') }}\""
        )


class DuckDBPublisher:
    """Write-audit-publish with files: build in a copy of production, publish by rename."""

    copies_every_relation = True  # a copy of the file

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.production = settings.duckdb_path
        # How the last audit copy was made: "prepared" when it was ready before the run.
        self.copy_method: CopyMethod | Literal["prepared"] | None = None
        self.published = False

    def audit_settings(self) -> Settings:
        return replace(self.settings, duckdb_path=self.audit_path)

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

    def open_audit(self) -> None:
        """A private copy of production (or a new file when there is none yet) to build in."""
        require_profile_builds_in(self.audit_settings())
        audit = self.audit_path
        audit.parent.mkdir(parents=True, exist_ok=True)
        self.discard_audit()
        if self.production.exists():
            with self._connect_production():
                if take(self.production, audit):
                    self.copy_method = "prepared"
                else:
                    self.copy_method = clone_file(self.production, audit)
                wal = self.production.with_name(self.production.name + ".wal")
                if wal.exists():  # left by a writer that died: part of the database
                    clone_file(wal, audit.with_name(audit.name + ".wal"))
        failpoint("audit:after-copy")

    def publish(self, run_id: str, windows: Iterable[tuple[date, date]]) -> None:
        audit = self.audit_path
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
        # At most one replaced file waits in the trash: a run healing many days one by one must
        # not hold a warehouse file per day.
        empty_trash(self.production)
        self._set_production_aside(run_id)
        os.replace(audit, self.production)
        _fsync(self.production.parent)
        failpoint("publish:after-rename")
        self.published = True
        self._prune_kept()

    def prepare_next_audit(self) -> None:
        """After a run that published, delete what its publishes replaced and copy production
        for the next run where a copy reads the whole file (no reflinks), unless
        DURABLE_PREPARE_AUDIT_COPY=0."""
        if not self.published:
            return
        if self.copy_method != "reflink" and self.settings.prepare_audit_copy:
            start_preparing(self.production)  # which tidies first
        else:
            tidy(self.production)

    def read_production(self, query: str) -> list[tuple]:
        if not self.production.exists():
            return []
        with self._connect_production() as con:
            return con.execute(query).fetchall()

    def literal(self, text: str) -> str:
        return "'" + text.replace("'", "''") + "'"

    @property
    def kept_dir(self) -> Path:
        return self.production.parent / "_kept"

    def _set_production_aside(self, replaced_by: str) -> None:
        """A second name for production's file, which the rename that follows leaves intact: in
        `_kept/` for a rollback, or in the trash, so the rename never frees its blocks on the
        run's path (prepared.py deletes it afterwards)."""
        if not self.production.exists():
            return
        keep = self.settings.keep_publications >= 1
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        folder = self.kept_dir if keep else trash_dir(self.production)
        second_name = folder / f"{stamp}-{replaced_by}" / self.production.name
        second_name.parent.mkdir(parents=True)
        os.link(self.production, second_name)
        if keep:  # a rollback needs it after a crash; the trash does not
            _fsync(second_name.parent)

    def _prune_kept(self) -> None:
        for stale in self.kept_states()[self.settings.keep_publications :]:
            to_trash(self.production, Path(stale.location).parent)

    def kept_states(self) -> list[KeptState]:
        if not self.kept_dir.exists():
            return []
        states = []
        for folder in sorted(self.kept_dir.iterdir(), reverse=True):
            kept = folder / self.production.name
            if not kept.exists():
                continue
            # A run killed between the link and the rename left a second name for production
            # itself: nothing to roll back to.
            if self.production.exists() and os.path.samefile(kept, self.production):
                continue
            stamp, _, replaced_by = folder.name.partition("-")
            kept_at = datetime.strptime(stamp, "%Y%m%dT%H%M%S%fZ").replace(tzinfo=UTC)
            states.append(KeptState(replaced_by, kept_at.isoformat(), str(kept)))
        return states

    def restore(self, state: KeptState, rollback_id: str) -> None:
        """The kept file becomes production by one rename; production is kept in its turn."""
        kept = Path(state.location)
        self._set_production_aside(rollback_id)
        failpoint("rollback:before-rename")
        os.replace(kept, self.production)
        _fsync(self.production.parent)
        shutil.rmtree(kept.parent, ignore_errors=True)
        self._prune_kept()
        empty_trash(self.production)

    def keep_failed(self, run_id: str) -> str | None:
        if not self.audit_path.exists():
            return None
        kept = self.failed_path(run_id)
        kept.parent.mkdir(parents=True, exist_ok=True)
        os.replace(self.audit_path, kept)
        return str(kept)

    def discard_audit(self) -> None:
        for leftover in (self.audit_path, self.audit_path.with_name(self.audit_path.name + ".wal")):
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

    def published_files(self) -> PublishedFiles:
        """Landing files production holds, with the size and mtime they were loaded at."""
        if not self.production.exists():
            return {}
        with self._connect_production() as con:
            return published_files(con, self.settings.raw_schema)

    def rows_changed(self, invocations: list[str]) -> dict[str, int]:
        """Rows each incremental model inserted or changed, read from `_invocation_id`."""
        if not invocations:
            return {}
        placeholders = ", ".join("?" for _ in invocations)
        changed = {}
        with duckdb.connect(str(self.audit_path)) as con:
            # Every schema of the file: a profile may build its models outside DURABLE_SCHEMA.
            tables = con.execute(
                "select schema_name, table_name from duckdb_columns() "
                "where database_name = current_database() and column_name = '_invocation_id'"
            ).fetchall()
            for schema, table in tables:
                changed[table] = con.execute(
                    f"select count(*) from {qualified(con, schema)}.{quote(table)} "
                    f"where _invocation_id in ({placeholders})",
                    invocations,
                ).fetchone()[0]
        return changed
