"""The project on Apache Spark: a local session, the landing loader, and write-audit-publish.

dbt-spark's `session` method runs Spark in this process (PySpark, `local[2]`). The loader and the
publisher create that session first, with a Hive metastore (embedded Derby) and a warehouse folder
under `DURABLE_SPARK_DIR` (default `data/spark`), so dbt, the loader and the publisher see the
same catalog; dbt's own `getOrCreate` then reuses it.

Raw tables are parquet, partitioned by `_source_file`: loading a file overwrites exactly its
partition, so a re-delivered file replaces its rows and a re-run after a crash changes nothing.
Files are staged by `durable.delivery.stage` in DuckDB (the same checks as every engine) and
written to parquet that Spark reads; the ledger `_landed_files` is rewritten whole after each load.

Write-audit-publish: two physical copies of each schema, `<schema>__blue` and `<schema>__green`.
Production `<schema>` holds only views onto the live copy. A run copies the live copy into the
idle one, builds and tests there, then publishes by recording the new colour in the metastore
(one `ALTER DATABASE ... SET DBPROPERTIES`, the commit point) and re-pointing the views. A failed
audit never touches the live copy nor the views.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb

from durable.config import PROJECT_DIR, Settings
from durable.delivery import DeliveryRejected, stage
from durable.failpoints import failpoint
from durable.landing import FileLoad, LoadReport, _sha256, discover, findings_rows
from durable.landing_zone import Finding
from durable.quoting import quote_identifier as quote
from durable.quoting import quote_spark_identifier as quote_spark
from durable.quoting import spark_string
from durable.sources import SourceTable

COLOURS = ("blue", "green")
LIVE_PROPERTY = "durable.live"
PUBLICATIONS = "_durable_publications"
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


def spark_dir() -> Path:
    value = Path(os.environ.get("DURABLE_SPARK_DIR", "data/spark"))
    return value if value.is_absolute() else PROJECT_DIR / value


def session_config(root: Path | None = None) -> dict[str, str]:
    """The session's settings; profiles.yml passes the same ones to dbt-spark."""
    root = root or spark_dir()
    return {
        "spark.master": os.environ.get("DURABLE_SPARK_MASTER", "local[2]"),
        "spark.app.name": "durable",
        "spark.sql.warehouse.dir": str(root / "warehouse"),
        "spark.hadoop.javax.jdo.option.ConnectionURL": (
            f"jdbc:derby:;databaseName={root / 'metastore_db'};create=true"
        ),
        "spark.driver.extraJavaOptions": f"-Dderby.system.home={root}",
        "spark.sql.shuffle.partitions": os.environ.get("DURABLE_SPARK_SHUFFLE_PARTITIONS", "2"),
        "spark.default.parallelism": "2",
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.sources.partitionOverwriteMode": "dynamic",
        "spark.sql.ansi.enabled": "false",  # dbt-spark forces it off too
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.driver.memory": os.environ.get("DURABLE_SPARK_DRIVER_MEMORY", "1g"),
    }


def session():  # noqa: ANN201 - pyspark is an optional extra: no import at module level
    """The process's Spark session (created on first use, with Hive support)."""
    from pyspark.sql import SparkSession

    root = spark_dir()
    root.mkdir(parents=True, exist_ok=True)
    builder = SparkSession.builder.enableHiveSupport()
    for key, value in session_config(root).items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def stop_session() -> None:
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None:
        active.stop()


def _tables(spark, database: str) -> list[str]:  # noqa: ANN001
    if not spark.catalog.databaseExists(database):
        return []
    return [t.name for t in spark.catalog.listTables(database) if not t.isTemporary]


def _kind(spark, database: str, table: str) -> str:  # noqa: ANN001
    return spark.catalog.getTable(f"{database}.{table}").tableType  # MANAGED, EXTERNAL or VIEW


# ---------------------------------------------------------------------------------------------
# Loader


class SparkLoader:
    """Loads landed files into `<raw_schema>.<entity>` parquet tables, partitioned by file."""

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
                f"create table if not exists {db}.{quote_spark(table.name)} ({columns}, "
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
        by_name = {table.name: table for table in tables}
        ledger = self.ledger()
        report = LoadReport()
        deliveries, report.findings = discover(landing_dir, tables, through, future_tolerance_days)
        self.record_findings(report.findings)
        loaded_at = datetime.now(UTC).replace(tzinfo=None)
        replaced: list[tuple[str, str]] = []  # (entity, source_file) whose old rows must go
        batches: dict[str, int] = {}
        staging = Path(tempfile.mkdtemp(prefix="landing-", dir=spark_dir()))
        try:
            with duckdb.connect() as con:
                for landed in deliveries:
                    stat = landed.path.lstat()
                    entry = ledger.get(landed.source_file)
                    unchanged = FileLoad(
                        landed.source_file, landed.entity, landed.delivery_date, "unchanged"
                    )
                    if entry and (entry["size_bytes"], entry["mtime_ns"]) == (
                        stat.st_size,
                        stat.st_mtime_ns,
                    ):
                        report.files.append(unchanged)
                        continue
                    table = by_name[landed.entity]
                    try:
                        digest = _sha256(landed.path)
                        if entry and entry["sha256"] == digest:
                            report.files.append(unchanged)
                            continue
                        staged = stage(con, landed, table)
                    except (DeliveryRejected, OSError) as error:
                        if isinstance(error, OSError):
                            digest = ""
                            error = DeliveryRejected(
                                landed.source_file, f"cannot be read ({error})"
                            )
                        loaded = bool(entry) and entry["status"] in ("loaded", "replaced")
                        load = FileLoad.quarantined(landed, error, loaded)
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
                            replaced.append((landed.entity, landed.source_file))
                        n = batches[landed.entity] = batches.get(landed.entity, 0) + 1
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
            for entity in batches:
                self._insert(staging / entity, f"{db}.{quote_spark(entity)}")
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
        (staging / table.name).mkdir(exist_ok=True)
        con.execute(
            f"""copy (select {columns}, ?::date as _delivery_date, _row_number,
                ?::timestamp as _loaded_at, ? as _source_file from _landing_rows)
            to '{staging / table.name / f"part-{n:05d}.parquet"}' (format parquet)""",
            lineage,
        )
        if con.execute("select count(*) from _landing_rejected").fetchone()[0]:
            (staging / "_rejected_rows").mkdir(exist_ok=True)
            con.execute(
                f"""copy (select ? as entity, ?::date as _delivery_date, _row_number, raw_line,
                    error_type, error_message, ?::timestamp as _loaded_at, ? as _source_file
                from _landing_rejected)
                to '{staging / "_rejected_rows" / f"{table.name}-{n:05d}.parquet"}'
                (format parquet)""",
                [table.name, *lineage],
            )

    def _drop_partitions(self, replaced: list[tuple[str, str]]) -> None:
        """A re-delivered file's old rows go first: its new version may have fewer partitions."""
        for entity, source_file in replaced:
            for relation in (quote_spark(entity), "_rejected_rows"):
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


# ---------------------------------------------------------------------------------------------
# Write-audit-publish


class SparkPublisher:
    """Build and test in the idle copy of the schemas; publish by re-pointing production views."""

    copies_every_relation = False  # tables only: each build recreates the views

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.schemas = (settings.schema, settings.raw_schema)

    @property
    def spark(self):  # noqa: ANN201
        return session()

    def live(self) -> str | None:
        """The colour production reads, as recorded in the metastore (None before a publish)."""
        schema = self.settings.schema
        if not self.spark.catalog.databaseExists(schema):
            return None
        for row in self.spark.sql(f"describe database extended `{schema}`").collect():
            info = row.asDict()
            name = info.get("info_name") or info.get("database_description_item")
            value = info.get("info_value") or info.get("database_description_value") or ""
            if name == "Properties" and f"{LIVE_PROPERTY}," in value:
                return value.split(f"{LIVE_PROPERTY},", 1)[1].split(")", 1)[0].strip()
        return None

    def idle(self) -> str:
        return COLOURS[1] if self.live() == COLOURS[0] else COLOURS[0]

    def audit_settings(self) -> Settings:
        colour = self.idle()
        schema, raw = self.schemas
        return replace(self.settings, schema=f"{schema}__{colour}", raw_schema=f"{raw}__{colour}")

    def open_audit(self) -> None:
        """The idle copy, dropped and refilled from the live one (tables; dbt rebuilds views)."""
        spark, live, idle = self.spark, self.live(), self.idle()
        self._repoint(live)  # settle views a crash may have left half re-pointed
        for schema in self.schemas:
            target = f"{schema}__{idle}"
            spark.sql(f"drop database if exists `{target}` cascade")
            spark.sql(f"create database `{target}`")
            if live is None:
                continue
            source = f"{schema}__{live}"
            for table in _tables(spark, source):
                if _kind(spark, source, table) == "VIEW":
                    continue
                partitions = [
                    c.name for c in spark.catalog.listColumns(f"{source}.{table}") if c.isPartition
                ]
                partitioned = f"partitioned by ({', '.join(partitions)})" if partitions else ""
                spark.sql(
                    f"create table `{target}`.`{table}` using parquet {partitioned} "
                    f"as select * from `{source}`.`{table}`"
                )
        failpoint("audit:after-copy")

    def publish(self, run_id: str, windows: Iterable[tuple[date, date]]) -> None:
        spark, idle = self.spark, self.idle()
        audit = f"{self.settings.schema}__{idle}"
        spark.sql(
            f"create table if not exists `{audit}`.{PUBLICATIONS} "
            "(run_id string, window_start date, window_end date, published_at timestamp) "
            "using parquet"
        )
        published_at = datetime.now(UTC).replace(tzinfo=None)
        rows = [(run_id, start, end, published_at) for start, end in windows]
        frame = spark.createDataFrame(
            rows, "run_id string, window_start date, window_end date, published_at timestamp"
        )
        frame.coalesce(1).write.insertInto(f"`{audit}`.{PUBLICATIONS}")
        failpoint("publish:before-rename")
        for schema in self.schemas:
            spark.sql(f"create database if not exists `{schema}`")
        # The commit point: one metastore write names the colour production reads.
        spark.sql(
            f"alter database `{self.settings.schema}` "
            f"set dbproperties ('{LIVE_PROPERTY}' = '{idle}')"
        )
        self._repoint(idle)
        failpoint("publish:after-rename")

    def _repoint(self, colour: str | None) -> None:
        """Production views onto every relation of the `colour` copy; stale views dropped."""
        if colour is None:
            return
        spark = self.spark
        for schema in self.schemas:
            source = f"{schema}__{colour}"
            wanted = set(_tables(spark, source))
            for name in sorted(wanted):
                spark.sql(
                    f"create or replace view `{schema}`.`{name}` "
                    f"as select * from `{source}`.`{name}`"
                )
            for name in set(_tables(spark, schema)) - wanted:
                spark.sql(f"drop view if exists `{schema}`.`{name}`")

    def keep_failed(self, run_id: str) -> str | None:
        """The idle copy stays as it is for inspection until the next run refills it."""
        if self.live() is None and not self.spark.catalog.databaseExists(
            f"{self.settings.schema}__{self.idle()}"
        ):
            return None
        return f"spark databases {', '.join(f'{s}__{self.idle()}' for s in self.schemas)}"

    def discard_audit(self) -> None:
        """Nothing to drop: open_audit refills the idle copy; views are settled there."""

    def published_runs(self) -> set[str]:
        live = self.live()
        if live is None:
            return set()
        relation = f"{self.settings.schema}__{live}.{PUBLICATIONS}"
        if not self.spark.catalog.tableExists(relation):
            return set()
        return {row.run_id for row in self.spark.table(relation).select("run_id").collect()}

    def published_files(self) -> dict[str, tuple[int, int, str, str | None]]:
        live = self.live()
        if live is None:
            return {}
        relation = f"{self.settings.raw_schema}__{live}._landed_files"
        if not self.spark.catalog.tableExists(relation):
            return {}
        rows = self.spark.sql(
            f"select source_file, size_bytes, mtime_ns, status, message from {relation}"
        ).collect()
        return {
            row.source_file: (row.size_bytes, row.mtime_ns, row.status, row.message) for row in rows
        }

    def rows_changed(self, invocations: list[str]) -> dict[str, int]:
        """Rows each incremental model wrote: on Spark, every row of each partition it rewrote."""
        if not invocations:
            return {}
        spark = self.spark
        audit = f"{self.settings.schema}__{self.idle()}"
        quoted = ", ".join(spark_string(i) for i in invocations)
        changed = {}
        for table in _tables(spark, audit):
            columns = [c.name for c in spark.catalog.listColumns(f"{audit}.{table}")]
            if "_invocation_id" in columns and _kind(spark, audit, table) != "VIEW":
                changed[table] = spark.sql(
                    f"select count(*) from `{audit}`.`{table}` where _invocation_id in ({quoted})"
                ).collect()[0][0]
        return changed
