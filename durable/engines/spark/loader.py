"""The Spark loader: parquet raw tables, partitioned by landing file.

Raw tables are parquet, partitioned by `_source_file`: loading a file overwrites exactly its
partition, so a re-delivered file replaces its rows and a re-run after a crash changes nothing.
Files are checked and staged by durable/landing/ in DuckDB (the same checks as every engine) and
written to parquet that Spark reads; the ledger `_landed_files` is rewritten whole after each load.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from durable.config import Settings
from durable.engines.spark.session import session
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
from durable.landing.quoting import quote_spark_identifier as quote_spark
from durable.landing.quoting import spark_string
from durable.landing.zone import Finding
from durable.sources import SourceTable

LEDGER_COLUMNS = (
    "source_file string, entity string, delivery_date date, size_bytes bigint, mtime_ns bigint, "
    "sha256 string, status string, rows_delivered bigint, rows_loaded bigint, "
    "rows_rejected bigint, message string, loaded_at timestamp"
)
FINDINGS_COLUMNS = (
    "path string, entity string, delivery_date date, status string, reason string, "
    "seen_at timestamp"
)
REJECTED_COLUMNS = (
    "entity string, _delivery_date date, _row_number bigint, raw_line string, error_type string, "
    "error_message string, _loaded_at timestamp, _source_file string"
)


@dataclass
class _Batch:
    """This load's staged parquet, written to the raw tables once every file is read."""

    folder: Path
    files: dict[str, int] = field(default_factory=dict)  # raw table -> parquet files staged
    replaced: list[tuple[str, str]] = field(default_factory=list)  # (raw table, source_file)

    def next_file(self, relation: str) -> int:
        self.files[relation] = self.files.get(relation, 0) + 1
        return self.files[relation]


class SparkLoader:
    """Loads deliveries into `<raw_schema>.<relation>` parquet tables, partitioned by file."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.schema = settings.raw_schema

    @property
    def spark(self):  # noqa: ANN201 - pyspark is an optional extra
        return session(self.settings.spark_dir)

    def load(
        self,
        tables: Sequence[SourceTable],
        deliveries: Sequence[LandedFile],
        findings: Sequence[Finding],
    ) -> LoadReport:
        self._ensure_tables(tables)
        by_key = {table.key: table for table in tables}
        ledger = self._ledger()
        # The same unchanged-or-new test as the other engines', over this load's copy.
        seen = LandedLedger(
            lambda _: [
                (name, e["size_bytes"], e["mtime_ns"], e["sha256"], e["status"], e["message"])
                for name, e in ledger.items()
            ]
        )
        report = LoadReport(findings=list(findings))
        self._record_findings(findings)
        loaded_at = datetime.now(UTC).replace(tzinfo=None)
        self.settings.spark_dir.mkdir(parents=True, exist_ok=True)
        batch = _Batch(Path(tempfile.mkdtemp(prefix="landing-", dir=self.settings.spark_dir)))
        try:
            with duckdb.connect() as con:
                for landed in deliveries:
                    version = seen.version(landed)
                    if version.unchanged:
                        report.files.append(FileLoad.unchanged(landed))
                        continue
                    table = by_key[landed.source, landed.entity]
                    load = version.read(con, table)
                    report.files.append(load)
                    self._stage(con, batch, version, load, table, loaded_at, ledger)
            if report.new_files or report.quarantined:
                self._write(batch, ledger)
        finally:
            shutil.rmtree(batch.folder, ignore_errors=True)
        return report

    def _stage(
        self,
        con: duckdb.DuckDBPyConnection,
        batch: _Batch,
        version: FileVersion,
        load: FileLoad,
        table: SourceTable,
        loaded_at: datetime,
        ledger: dict[str, dict],
    ) -> None:
        """The file's rows to parquet, its ledger row to `ledger`."""
        stat, entry = version.stat, ledger.get(load.source_file)
        if load.status == "quarantined" and version.earlier_loaded:
            # A broken re-send: the earlier version stays loaded, with its counts.
            entry.update(
                size_bytes=stat.st_size,
                mtime_ns=stat.st_mtime_ns,
                sha256=version.digest,
                message=load.message,
            )
            return
        if load.status != "quarantined":
            if entry:
                batch.replaced.append((table.relation, load.source_file))
            n = batch.next_file(table.relation)
            self._write_parquet(con, batch.folder, version.landed, table, loaded_at, n)
        ledger[load.source_file] = {
            "source_file": load.source_file,
            "entity": load.entity,
            "delivery_date": load.delivery_date,
            "size_bytes": stat.st_size,
            "mtime_ns": stat.st_mtime_ns,
            "sha256": version.digest,
            "status": load.status,
            "rows_delivered": load.rows_delivered,
            "rows_loaded": load.rows_loaded,
            "rows_rejected": load.rows_rejected,
            "message": load.message,
            "loaded_at": loaded_at,
        }

    def _write(self, batch: _Batch, ledger: dict[str, dict]) -> None:
        self._drop_partitions(batch.replaced)
        db = quote_spark(self.schema)
        for relation in batch.files:
            self._insert(batch.folder / relation, f"{db}.{quote_spark(relation)}")
            failpoint("load:after-file")
        if any((batch.folder / "_rejected_rows").glob("*.parquet")):
            self._insert(batch.folder / "_rejected_rows", f"{db}._rejected_rows")
        self._write_ledger(ledger)

    def _ensure_tables(self, tables: Sequence[SourceTable]) -> None:
        db = quote_spark(self.schema)
        self.spark.sql(f"create database if not exists {db}")
        for name, columns in (
            ("_landed_files", LEDGER_COLUMNS),
            ("_landing_findings", FINDINGS_COLUMNS),
        ):
            self.spark.sql(f"create table if not exists {db}.{name} ({columns}) using parquet")
        self.spark.sql(
            f"create table if not exists {db}._rejected_rows ({REJECTED_COLUMNS}) "
            "using parquet partitioned by (_source_file)"
        )
        for table in tables:
            columns = ", ".join(f"{quote_spark(c)} string" for c in table.columns)
            self.spark.sql(
                f"create table if not exists {db}.{quote_spark(table.relation)} ({columns}, "
                "_delivery_date date, _row_number bigint, _loaded_at timestamp, "
                "_source_file string) using parquet partitioned by (_source_file)"
            )

    def _ledger(self) -> dict[str, dict]:
        rows = self.spark.table(f"{quote_spark(self.schema)}._landed_files").collect()
        ledger = {row.source_file: row.asDict() for row in rows}
        for entry in ledger.values():  # rejected before the file-level quarantine existed
            if entry["status"] == "rejected":
                entry["status"] = "quarantined"
        return ledger

    def _record_findings(self, findings: Sequence[Finding]) -> None:
        """The landing zone's other paths as of this load, rewritten when they changed."""
        from pyspark.sql.types import _parse_datatype_string

        relation = f"{quote_spark(self.schema)}._landing_findings"
        known = {tuple(row)[:5] for row in self.spark.table(relation).collect()}
        rows = findings_rows(findings, datetime.now(UTC).replace(tzinfo=None))
        if known == {row[:5] for row in rows}:
            return
        frame = self.spark.createDataFrame(rows, _parse_datatype_string(FINDINGS_COLUMNS))
        frame.coalesce(1).write.insertInto(relation, overwrite=True)

    def _write_parquet(
        self,
        con: duckdb.DuckDBPyConnection,
        staging: Path,
        landed: LandedFile,
        table: SourceTable,
        loaded_at: datetime,
        n: int,
    ) -> None:
        columns = ", ".join(quote(c) for c in table.columns)
        lineage = [landed.delivery_date, loaded_at, landed.source_file]
        (staging / table.relation).mkdir(exist_ok=True)
        con.execute(
            f"""copy (select {columns}, ?::date as _delivery_date, _row_number,
                ?::timestamp as _loaded_at, ? as _source_file from _landing_rows)
            to '{staging / table.relation / f"part-{n:05d}.parquet"}' (format parquet)""",
            lineage,
        )
        if con.execute("select count(*) from _landing_rejected").fetchone()[0]:
            (staging / "_rejected_rows").mkdir(exist_ok=True)
            con.execute(
                f"""copy (select ? as entity, ?::date as _delivery_date, _row_number, raw_line,
                    error_type, error_message, ?::timestamp as _loaded_at, ? as _source_file
                from _landing_rejected)
                to '{staging / "_rejected_rows" / f"{table.relation}-{n:05d}.parquet"}'
                (format parquet)""",
                [table.name, *lineage],
            )

    def _drop_partitions(self, replaced: list[tuple[str, str]]) -> None:
        """A re-delivered file's old rows go first: its new version may have fewer partitions."""
        for raw_table, source_file in replaced:
            for relation in (quote_spark(raw_table), "_rejected_rows"):
                self.spark.sql(
                    f"alter table {quote_spark(self.schema)}.{relation} "
                    f"drop if exists partition (_source_file = {spark_string(source_file)})"
                )

    def _insert(self, folder: Path, relation: str) -> None:
        """Overwrite the partitions (files) present in the parquet folder, and only those."""
        columns = [c.name for c in self.spark.catalog.listColumns(relation.replace("`", ""))]
        frame = self.spark.read.parquet(str(folder)).select(*columns)
        frame.write.insertInto(relation, overwrite=True)

    def _write_ledger(self, ledger: dict[str, dict]) -> None:
        from pyspark.sql.types import _parse_datatype_string

        schema = _parse_datatype_string(LEDGER_COLUMNS)
        rows = [tuple(entry[f.name] for f in schema.fields) for entry in ledger.values()]
        frame = self.spark.createDataFrame(rows, schema).coalesce(1)
        frame.write.insertInto(f"{quote_spark(self.schema)}._landed_files", overwrite=True)
