"""The Spark landing loader: parquet raw tables, partitioned by landing file.

Raw tables are parquet, partitioned by `_source_file`: loading a file overwrites exactly its
partition, so a re-delivered file replaces its rows and a re-run after a crash changes nothing.
Files are staged by `durable.delivery.stage` in DuckDB (the same checks as every engine) and
written to parquet that Spark reads; the ledger `_landed_files` is rewritten whole after each load.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterable
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb

from durable.config import Settings
from durable.delivery import DeliveryRejected, stage
from durable.failpoints import failpoint
from durable.landing import FileLoad, LandedLedger, LoadReport, discover, findings_rows
from durable.landing_zone import Finding
from durable.quoting import quote_identifier as quote
from durable.quoting import quote_spark_identifier as quote_spark
from durable.quoting import spark_string
from durable.sources import SourceTable
from durable.spark import session, spark_dir

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


class SparkLoader:
    """Loads landed files into `<raw_schema>.<relation>` parquet tables, partitioned by file."""

    def __init__(self, spark, raw_schema: str) -> None:  # noqa: ANN001
        self.spark = spark
        self.schema = raw_schema

    def ensure_tables(self, tables: Iterable[SourceTable]) -> None:
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

    def ledger(self) -> dict[str, dict]:
        rows = self.spark.table(f"{quote_spark(self.schema)}._landed_files").collect()
        ledger = {row.source_file: row.asDict() for row in rows}
        for entry in ledger.values():  # rejected before the file-level quarantine existed
            if entry["status"] == "rejected":
                entry["status"] = "quarantined"
        return ledger

    def record_findings(self, findings: list[Finding]) -> None:
        """The landing zone's other paths as of this load, rewritten when they changed."""
        from pyspark.sql.types import _parse_datatype_string

        relation = f"{quote_spark(self.schema)}._landing_findings"
        known = {tuple(row)[:5] for row in self.spark.table(relation).collect()}
        rows = findings_rows(findings, datetime.now(UTC).replace(tzinfo=None))
        if known == {row[:5] for row in rows}:
            return
        frame = self.spark.createDataFrame(rows, _parse_datatype_string(FINDINGS_COLUMNS))
        frame.coalesce(1).write.insertInto(relation, overwrite=True)

    def load(
        self,
        landing_dir: Path,
        tables: list[SourceTable],
        through: date | None,
        future_tolerance_days: int = 1,
    ) -> LoadReport:
        by_key = {table.key: table for table in tables}
        ledger = self.ledger()
        # The same unchanged-or-new test as the other engines', over this load's copy.
        seen = LandedLedger(
            lambda _: [
                (name, e["size_bytes"], e["mtime_ns"], e["sha256"], e["status"], e["message"])
                for name, e in ledger.items()
            ]
        )
        report = LoadReport()
        deliveries, report.findings = discover(landing_dir, tables, through, future_tolerance_days)
        self.record_findings(report.findings)
        loaded_at = datetime.now(UTC).replace(tzinfo=None)
        replaced: list[tuple[str, str]] = []  # (relation, source_file) whose old rows must go
        batches: dict[str, int] = {}
        staging = Path(tempfile.mkdtemp(prefix="landing-", dir=spark_dir()))
        try:
            with duckdb.connect() as con:
                for landed in deliveries:
                    stat = landed.path.lstat()
                    digest, unreadable = seen.digest_or_unreadable(landed, stat)
                    if digest is None:
                        report.files.append(FileLoad.unchanged(landed))
                        continue
                    entry = ledger.get(landed.source_file)
                    table = by_key[landed.source, landed.entity]
                    try:
                        if unreadable:
                            raise unreadable
                        staged = stage(con, landed, table)
                    except DeliveryRejected as rejected:
                        loaded = seen.has_loaded(landed)
                        load = FileLoad.quarantined(landed, rejected, loaded)
                        report.files.append(load)
                        if loaded:  # a broken re-send: the earlier version stays loaded
                            entry.update(
                                size_bytes=stat.st_size,
                                mtime_ns=stat.st_mtime_ns,
                                sha256=digest,
                                message=load.message,
                            )
                            continue
                    else:
                        load = FileLoad.staged(landed, staged, bool(entry))
                        if entry:
                            replaced.append((table.relation, landed.source_file))
                        n = batches[table.relation] = batches.get(table.relation, 0) + 1
                        self._write_parquet(con, staging, landed, table, loaded_at, n)
                        report.files.append(load)
                    ledger[landed.source_file] = {
                        "source_file": load.source_file,
                        "entity": load.entity,
                        "delivery_date": load.delivery_date,
                        "size_bytes": stat.st_size,
                        "mtime_ns": stat.st_mtime_ns,
                        "sha256": digest,
                        "status": load.status,
                        "rows_delivered": load.rows_delivered,
                        "rows_loaded": load.rows_loaded,
                        "rows_rejected": load.rows_rejected,
                        "message": load.message,
                        "loaded_at": loaded_at,
                    }
            if not report.new_files and not report.quarantined:
                return report
            self._drop_partitions(replaced)
            db = quote_spark(self.schema)
            for relation in batches:
                self._insert(staging / relation, f"{db}.{quote_spark(relation)}")
                failpoint("load:after-file")
            if any((staging / "_rejected_rows").glob("*.parquet")):
                self._insert(staging / "_rejected_rows", f"{db}._rejected_rows")
            self._write_ledger(ledger)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        return report

    def _write_parquet(
        self,
        con: duckdb.DuckDBPyConnection,
        staging: Path,
        landed,  # noqa: ANN001 - durable.delivery.LandedFile
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


def load_landing_spark(
    settings: Settings, tables: list[SourceTable], through: date | None = None
) -> LoadReport:
    """Load every new or changed file delivered up to `through` into the Spark raw tables."""
    loader = SparkLoader(session(), settings.raw_schema)
    loader.ensure_tables(tables)
    return loader.load(settings.landing_dir, tables, through, settings.future_tolerance_days)
