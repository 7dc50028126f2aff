"""Write-audit-publish on Apache Spark, by re-pointing production views.

Write-audit-publish: two physical copies of each schema, `<schema>__blue` and `<schema>__green`.
Production `<schema>` holds only views onto the live copy. A run copies the live copy into the
idle one, builds and tests there, then publishes by recording the new colour in the metastore
(one `ALTER DATABASE ... SET DBPROPERTIES`, the commit point) and re-pointing the views. A failed
audit never touches the live copy nor the views.

`durable rollback` has one earlier state to go back to: the idle copy, which holds the previous
publication until the next run starts refilling it (`durable.kept` in the same properties says
so; open_audit clears it first).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, date, datetime

from durable.config import Settings
from durable.engines.interface import KeptState, PublishedFiles
from durable.engines.spark.session import session
from durable.failpoints import failpoint
from durable.landing.quoting import spark_string

COLOURS = ("blue", "green")
LIVE_PROPERTY = "durable.live"
KEPT_PROPERTY = "durable.kept"  # <colour>|<replaced by>|<kept at>, or empty
PUBLICATIONS = "_durable_publications"


def _tables(spark, database: str) -> list[str]:  # noqa: ANN001
    if not spark.catalog.databaseExists(database):
        return []
    return [t.name for t in spark.catalog.listTables(database) if not t.isTemporary]


def _kind(spark, database: str, table: str) -> str:  # noqa: ANN001
    return spark.catalog.getTable(f"{database}.{table}").tableType  # MANAGED, EXTERNAL or VIEW


class SparkPublisher:
    """Build and test in the idle copy of the schemas; publish by re-pointing production views."""

    copies_every_relation = False  # tables only: each build recreates the views

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.schemas = (settings.schema, settings.raw_schema)

    @property
    def spark(self):  # noqa: ANN201 - pyspark is an optional extra
        return session(self.settings.spark_dir)

    def _property(self, key: str) -> str | None:
        schema = self.settings.schema
        if not self.spark.catalog.databaseExists(schema):
            return None
        for row in self.spark.sql(f"describe database extended `{schema}`").collect():
            info = row.asDict()
            name = info.get("info_name") or info.get("database_description_item")
            value = info.get("info_value") or info.get("database_description_value") or ""
            if name == "Properties" and f"{key}," in value:
                return value.split(f"{key},", 1)[1].split(")", 1)[0].strip()
        return None

    def _set_properties(self, properties: dict[str, str]) -> None:
        """One metastore write: the commit point of a publish or a rollback."""
        listed = ", ".join(f"'{key}' = {spark_string(value)}" for key, value in properties.items())
        self.spark.sql(f"alter database `{self.settings.schema}` set dbproperties ({listed})")

    def live(self) -> str | None:
        """The colour production reads, as recorded in the metastore (None before a publish)."""
        return self._property(LIVE_PROPERTY)

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
        if self._property(KEPT_PROPERTY):  # the idle copy stops being a state to go back to
            self._set_properties({KEPT_PROPERTY: ""})
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
        live = self.live()
        kept = f"{live}|{run_id}|{datetime.now(UTC).isoformat()}" if live else ""
        self._set_properties({LIVE_PROPERTY: idle, KEPT_PROPERTY: kept})
        self._repoint(idle)
        failpoint("publish:after-rename")

    def read_production(self, query: str) -> list[tuple]:
        return [tuple(row) for row in self.spark.sql(query).collect()]

    def literal(self, text: str) -> str:
        return spark_string(text)

    def kept_states(self) -> list[KeptState]:
        kept = self._property(KEPT_PROPERTY)
        if not kept or self.settings.keep_publications < 1:
            return []
        colour, replaced_by, kept_at = kept.split("|", 2)
        return [KeptState(replaced_by, kept_at, colour)]

    def restore(self, state: KeptState, rollback_id: str) -> None:
        """The idle colour becomes live again; the copy it replaces is the one kept now."""
        live = self.live()
        kept = f"{live}|{rollback_id}|{datetime.now(UTC).isoformat()}"
        self._set_properties({LIVE_PROPERTY: state.location, KEPT_PROPERTY: kept})
        self._repoint(state.location)

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

    def prepare_next_audit(self) -> None:
        """Nothing to ready: open_audit refills the idle copy from the live one."""

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

    def published_files(self) -> PublishedFiles:
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
