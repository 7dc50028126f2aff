"""Loads the landing zone into raw tables: every delivered file once, every row accounted for.

A delivery is `<landing>/<entity>/dt=YYYY-MM-DD/part-NNNN.csv`. Each file is read with DuckDB's CSV
reader, every column as text, so no value can fail the load; typing and row-level checks happen in
dbt staging. Lines the reader cannot split into the declared columns are kept in `_rejected_rows`
with their line and the reader's message. A file whose header or encoding is wrong is rejected as a
whole: that is a deterministic failure the runner must not retry.

The ledger `_landed_files` remembers each file's size, mtime and hash, so a re-run skips what it has
loaded, and a re-delivered (changed) file replaces its earlier rows instead of appending them twice.
Each file is loaded in one transaction with its ledger row: a crash leaves it loaded or not at all.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb

from durable.failpoints import failpoint
from durable.sources import SourceTable

PARTITION = re.compile(r"^dt=(\d{4}-\d{2}-\d{2})$")
LINEAGE_COLUMNS = ("_source_file", "_delivery_date", "_row_number", "_loaded_at")


class DeliveryRejected(Exception):
    """A file that cannot be loaded as delivered; names the file and the problem."""

    def __init__(self, source_file: str, problem: str) -> None:
        super().__init__(f"delivery rejected: {source_file}: {problem}")
        self.source_file = source_file
        self.problem = problem


@dataclass(frozen=True)
class LandedFile:
    entity: str
    delivery_date: date
    path: Path
    source_file: str  # path relative to the landing dir: stable across machines and clones


@dataclass
class FileLoad:
    source_file: str
    entity: str
    delivery_date: date
    status: str  # loaded | replaced | unchanged | rejected
    rows_delivered: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    message: str = ""


@dataclass
class LoadReport:
    files: list[FileLoad] = field(default_factory=list)

    @property
    def new_files(self) -> list[FileLoad]:
        return [f for f in self.files if f.status in ("loaded", "replaced")]

    @property
    def rejected(self) -> list[FileLoad]:
        return [f for f in self.files if f.status == "rejected"]

    def totals(self) -> dict[str, int]:
        return {
            "files": len(self.new_files),
            "rows_delivered": sum(f.rows_delivered for f in self.new_files),
            "rows_loaded": sum(f.rows_loaded for f in self.new_files),
            "rows_rejected": sum(f.rows_rejected for f in self.new_files),
        }


def discover(
    landing_dir: Path, tables: Iterable[SourceTable], through: date | None = None
) -> list[LandedFile]:
    """Files in the landing zone, oldest delivery first; `through` hides later deliveries."""
    found = []
    for table in tables:
        for partition in sorted((landing_dir / table.name).glob("dt=*")):
            match = PARTITION.match(partition.name)
            if not match or not partition.is_dir():
                continue
            delivered = date.fromisoformat(match.group(1))
            if through is not None and delivered > through:
                continue
            for path in sorted(partition.glob("*.csv")):
                relative = path.relative_to(landing_dir).as_posix()
                found.append(LandedFile(table.name, delivered, path, relative))
    return sorted(found, key=lambda f: (f.delivery_date, f.entity, f.source_file))


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


class DuckDBLoader:
    """Loads landed files into `<raw_schema>.<entity>` tables of a DuckDB database."""

    def __init__(self, connection: duckdb.DuckDBPyConnection, raw_schema: str) -> None:
        self.con = connection
        self.schema = _quote(raw_schema)

    def ensure_tables(self, tables: Iterable[SourceTable]) -> None:
        self.con.execute(f"create schema if not exists {self.schema}")
        self.con.execute(
            f"""create table if not exists {self.schema}._landed_files (
                source_file varchar primary key,
                entity varchar not null,
                delivery_date date not null,
                size_bytes bigint not null,
                mtime_ns bigint not null,
                sha256 varchar not null,
                status varchar not null,
                rows_delivered bigint not null,
                rows_loaded bigint not null,
                rows_rejected bigint not null,
                message varchar,
                loaded_at timestamp not null
            )"""
        )
        self.con.execute(
            f"""create table if not exists {self.schema}._rejected_rows (
                entity varchar not null,
                _source_file varchar not null,
                _delivery_date date not null,
                _row_number bigint not null,
                raw_line varchar,
                error_type varchar,
                error_message varchar,
                _loaded_at timestamp not null
            )"""
        )
        for table in tables:
            columns = ", ".join(f"{_quote(c)} varchar" for c in table.columns)
            self.con.execute(
                f"""create table if not exists {self.schema}.{_quote(table.name)} (
                    {columns},
                    _source_file varchar not null,
                    _delivery_date date not null,
                    _row_number bigint not null,
                    _loaded_at timestamp not null
                )"""
            )

    def _ledger_entry(self, source_file: str) -> tuple[int, int, str, str] | None:
        rows = self.con.execute(
            f"select size_bytes, mtime_ns, sha256, status from {self.schema}._landed_files "
            "where source_file = ?",
            [source_file],
        ).fetchall()
        return rows[0] if rows else None

    def load_file(self, landed: LandedFile, table: SourceTable) -> FileLoad:
        stat = landed.path.stat()
        entry = self._ledger_entry(landed.source_file)
        if entry and entry[0] == stat.st_size and entry[1] == stat.st_mtime_ns:
            return FileLoad(landed.source_file, landed.entity, landed.delivery_date, "unchanged")
        digest = _sha256(landed.path)
        if entry and entry[2] == digest:
            return FileLoad(landed.source_file, landed.entity, landed.delivery_date, "unchanged")

        try:
            self._check_header(landed, table)
            load = self._copy_rows(landed, table, replacing=entry is not None)
        except DeliveryRejected as rejected:
            load = FileLoad(
                landed.source_file,
                landed.entity,
                landed.delivery_date,
                "rejected",
                message=rejected.problem,
            )
        self.con.execute(
            f"""insert or replace into {self.schema}._landed_files values
                (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, now()::timestamp)""",
            [
                load.source_file,
                load.entity,
                load.delivery_date,
                stat.st_size,
                stat.st_mtime_ns,
                digest,
                load.status,
                load.rows_delivered,
                load.rows_loaded,
                load.rows_rejected,
                load.message,
            ],
        )
        return load

    def _check_header(self, landed: LandedFile, table: SourceTable) -> None:
        with landed.path.open("rb") as handle:
            first_line = handle.readline()
        try:
            header = first_line.decode("utf-8").rstrip("\r\n")
        except UnicodeDecodeError as error:
            raise DeliveryRejected(landed.source_file, f"header is not UTF-8 ({error})") from None
        expected = ",".join(table.columns)
        if header != expected:
            raise DeliveryRejected(
                landed.source_file, f"header is {header!r}, expected {expected!r}"
            )

    def _copy_rows(self, landed: LandedFile, table: SourceTable, replacing: bool) -> FileLoad:
        columns = "{" + ", ".join(f"'{c}': 'varchar'" for c in table.columns) + "}"
        target = f"{self.schema}.{_quote(table.name)}"
        self.con.execute("begin transaction")
        try:
            self.con.execute("drop table if exists _landing_rejects")
            self.con.execute("drop table if exists _landing_scans")
            self.con.execute(
                f"""create or replace temp table _landing_batch as
                select * from read_csv(?, header = true, auto_detect = false,
                    columns = {columns}, delim = ',', quote = '"', escape = '"',
                    store_rejects = true, rejects_table = '_landing_rejects',
                    rejects_scan = '_landing_scans')""",
                [str(landed.path)],
            )
            # Data rows are numbered from 1 in file order. Rejected lines are not in the batch, so a
            # good row's number is its ordinal plus the rejected rows that come before it.
            self.con.execute(
                """create or replace temp table _landing_rejected as
                select distinct line - 1 as row_number, csv_line, error_type::varchar as error_type,
                    error_message
                from _landing_rejects"""
            )
            if replacing:
                for relation in (target, f"{self.schema}._rejected_rows"):
                    self.con.execute(
                        f"delete from {relation} where _source_file = ?", [landed.source_file]
                    )
            select_columns = ", ".join(_quote(c) for c in table.columns)
            loaded = self.con.execute(
                f"""insert into {target}
                with numbered as (
                    -- rowids follow file order but need not start at 0 (transaction-local rows)
                    select *, rowid - min(rowid) over () + 1 as ordinal from _landing_batch
                ),
                skips as (
                    select row_number - row_number() over (order by row_number) as good_before
                    from _landing_rejected
                )
                select {select_columns}, ?, ?::date,
                    ordinal + (select count(*) from skips where good_before < ordinal),
                    now()::timestamp
                from numbered""",
                [landed.source_file, landed.delivery_date],
            ).fetchall()[0][0]
            rejected = self.con.execute(
                f"""insert into {self.schema}._rejected_rows
                select ?, ?, ?::date, row_number, csv_line, error_type, error_message,
                    now()::timestamp
                from _landing_rejected""",
                [landed.entity, landed.source_file, landed.delivery_date],
            ).fetchall()[0][0]
            self.con.execute("commit")
        except duckdb.Error as error:
            self.con.execute("rollback")
            message = str(error).splitlines()[0]
            raise DeliveryRejected(landed.source_file, f"unreadable CSV: {message}") from None
        return FileLoad(
            landed.source_file,
            landed.entity,
            landed.delivery_date,
            "replaced" if replacing else "loaded",
            rows_delivered=loaded + rejected,
            rows_loaded=loaded,
            rows_rejected=rejected,
        )


def load_landing(
    database: Path,
    landing_dir: Path,
    raw_schema: str,
    tables: list[SourceTable],
    through: date | None = None,
) -> LoadReport:
    """Load every new or changed file delivered up to `through` into the raw tables."""
    by_name = {table.name: table for table in tables}
    report = LoadReport()
    database.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(database)) as connection:
        loader = DuckDBLoader(connection, raw_schema)
        loader.ensure_tables(tables)
        for landed in discover(landing_dir, tables, through):
            report.files.append(loader.load_file(landed, by_name[landed.entity]))
            failpoint("load:after-file")
    return report
