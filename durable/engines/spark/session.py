"""The process's Apache Spark session, shared by the loader, the publisher and dbt.

dbt-spark's `session` method runs Spark in this process (PySpark, `local[2]`). The loader and the
publisher create that session first, with a Hive metastore (embedded Derby) and a warehouse folder
under `DURABLE_SPARK_DIR` (default `data/spark`), so dbt, the loader and the publisher see the
same catalog; dbt's own `getOrCreate` then reuses it.
"""

from __future__ import annotations

import os
from pathlib import Path

from durable.config import Settings


def session_config(root: Path | None = None) -> dict[str, str]:
    """The session's settings; profiles.yml passes the same ones to dbt-spark."""
    root = root or Settings().spark_dir
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


def session(root: Path | None = None):  # noqa: ANN201 - pyspark is an optional extra
    """The process's Spark session (created on first use, with Hive support, its catalog under
    `root`: DURABLE_SPARK_DIR unless given). There is one per process: a later `root` is not
    another catalog."""
    from pyspark.sql import SparkSession

    root = root or Settings().spark_dir
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
