"""The project on Apache Spark (dbt-spark, in-process `local[2]` session), checked against DuckDB.

- Re-running a window on Spark leaves every mart identical (its parquet tables have no MERGE or
  DELETE, so the incremental models are rebuilt there, dbt_project.yml); incremental windows
  equal one --full-refresh; the marts hold the same rows as the DuckDB build of the same
  deliveries (order-independent checksums, columns by name).
- Write-audit-publish on Spark: a window is built and tested in the idle copy and published by
  re-pointing the production views; a failing test leaves production untouched.

Needs Java 17 and the `spark` extra: the module runs `make setup-spark` when they are missing
and is skipped, with the reason, only when that cannot install them. Tiny data (4 days) keeps it
to a few minutes; builds select models only, except the runner's (which runs every test).
"""

from __future__ import annotations

import csv
import importlib
import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from pathlib import Path

import duckdb
import pytest

from checks import ACROSS_ENGINES_EXCLUDE, AUDIT_COLUMNS, MARTS, rows_checksum
from conftest import PROJECT_DIR
from durable.config import Settings
from durable.errors import ExitCode
from durable.pipeline import process_window
from jaffle_simulator import COLUMNS, DeliveryPlan

pytestmark = [pytest.mark.spark, pytest.mark.slow]

MODELS_ONLY = ["resource_type:model"]  # data and unit tests run in the runner's test below


def _spark_available() -> str | None:
    """None when Spark can run here, else why not (after trying `make setup-spark`)."""

    def missing() -> str | None:
        importlib.invalidate_caches()
        if shutil.which("java") is None:
            return "java not found"
        try:
            importlib.import_module("pyspark")
            importlib.import_module("dbt.adapters.spark")
        except ImportError as error:
            return f"the spark extra is not installed ({error})"
        return None

    if missing() is None:
        return None
    setup = subprocess.run(
        ["make", "-f", "Makefile", "-f", "spark.mk", "setup-spark"],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
    )
    reason = missing()
    if reason:
        return f"{reason}; `make setup-spark` could not install it: {setup.stderr[-500:]}"
    return None


@pytest.fixture(scope="module")
def spark_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    reason = _spark_available()
    if reason:
        pytest.skip(f"Spark cannot run here: {reason}")
    root = tmp_path_factory.mktemp("spark")
    saved = {k: os.environ.get(k) for k in ("DURABLE_SPARK_DIR", "DBT_TARGET_PATH")}
    os.environ["DURABLE_SPARK_DIR"] = str(root)
    os.environ["DBT_TARGET_PATH"] = str(root / "dbt-target")  # not the shared target/
    from durable.engines.spark import session as spark

    spark.session()
    yield root
    spark.stop_session()
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture(scope="module")
def tiny_plan(tmp_path_factory: pytest.TempPathFactory) -> DeliveryPlan:
    return DeliveryPlan.build(seed=7, days=4, cache_dir=tmp_path_factory.mktemp("jafgen"))


def settings(root: Path, name: str, target: str = "spark", landing: Path | None = None) -> Settings:
    return Settings(
        project_dir=PROJECT_DIR,
        landing_dir=landing or root / f"{name}-landing",
        duckdb_path=root / f"{name}.duckdb",
        schema=name,
        raw_schema=f"{name}_raw",
        target=target,
        state_dir=root / f"{name}-state",
        prod_state_dir=root / f"{name}-prod-state",
    )


def run(s: Settings, start: date | None, end: date | None, **options: object) -> None:
    result = process_window(s, start, end, quiet=True, select=MODELS_ONLY, **options)
    failures = [f"{n.unique_id}: {n.message[:500]}" for n in result.build.failures()]
    assert result.success, f"{s.target} {start}..{end}: {failures or result.build.exception}"


def spark_checksums(schema: str, exclude: tuple[str, ...] = AUDIT_COLUMNS) -> dict:
    """Checksums of the marts in a Spark schema; columns by name, timestamps without a zone."""
    from durable.engines.spark.session import session

    spark, sums = session(), {}
    for mart in MARTS:
        columns = spark.catalog.listColumns(f"{schema}.{mart}")
        selected = [
            f"cast(`{c.name}` as timestamp_ntz) as `{c.name}`"
            if c.dataType == "timestamp"
            else f"`{c.name}`"
            for c in sorted(columns, key=lambda c: c.name)
            if c.name not in exclude
        ]
        rows = spark.sql(f"select {', '.join(selected)} from `{schema}`.`{mart}`").collect()
        sums[mart] = rows_checksum([tuple(row) for row in rows])
    return sums


def duckdb_checksums(path: Path, exclude: tuple[str, ...] = AUDIT_COLUMNS) -> dict:
    sums = {}
    with duckdb.connect(str(path), read_only=True) as con:
        for mart in MARTS:
            names = sorted(
                name
                for (name,) in con.execute(
                    "select column_name from information_schema.columns "
                    "where table_schema = 'analytics' and table_name = ?",
                    [mart],
                ).fetchall()
                if name not in exclude
            )
            rows = con.execute(f"select {', '.join(names)} from analytics.{mart}").fetchall()
            sums[mart] = rows_checksum(rows)
    return sums


@pytest.fixture(scope="module")
def daily(spark_dir: Path, tiny_plan: DeliveryPlan) -> Settings:
    """Two incremental windows on Spark: the first two delivery days, then the last two."""
    s = settings(spark_dir, "daily")
    days = tiny_plan.delivery_dates
    tiny_plan.land(s.landing_dir, only=days[0])
    tiny_plan.land(s.landing_dir, only=days[1])
    run(s, days[0], days[1])
    tiny_plan.land(s.landing_dir, only=days[2])
    tiny_plan.land(s.landing_dir, only=days[3])
    run(s, days[2], days[3])
    return s


def test_rerunning_a_window_changes_nothing(daily: Settings, tiny_plan: DeliveryPlan) -> None:
    before = spark_checksums(daily.schema)
    days = tiny_plan.delivery_dates
    run(daily, days[2], days[3])
    assert spark_checksums(daily.schema) == before
    assert all(count > 0 for count, _ in before.values()), before


def test_windows_equal_one_full_refresh(daily: Settings, spark_dir: Path) -> None:
    full = settings(spark_dir, "full", landing=daily.landing_dir)
    run(full, None, None, full_refresh=True)
    assert spark_checksums(full.schema) == spark_checksums(daily.schema)


def test_spark_marts_hold_the_same_rows_as_duckdb(
    daily: Settings, spark_dir: Path, tiny_plan: DeliveryPlan
) -> None:
    on_duckdb = replace(
        settings(spark_dir, "duckdb", target="duckdb", landing=daily.landing_dir),
        schema="analytics",
        raw_schema="raw",
    )
    days = tiny_plan.delivery_dates
    run(on_duckdb, days[0], days[1])
    run(on_duckdb, days[2], days[3])
    assert spark_checksums(daily.schema, ACROSS_ENGINES_EXCLUDE) == duckdb_checksums(
        on_duckdb.duckdb_path, ACROSS_ENGINES_EXCLUDE
    )


def test_write_audit_publish_on_spark(spark_dir: Path, tiny_plan: DeliveryPlan) -> None:
    from durable.engines.spark import SparkPublisher
    from durable.engines.spark.session import session
    from durable.runner import Runner

    s = settings(spark_dir, "wap")
    days = tiny_plan.delivery_dates
    for day in days[:2]:
        tiny_plan.land(s.landing_dir, only=day)
    # A file that cannot be read is set aside and the rest publishes, as on every engine.
    unreadable = s.landing_dir / "orders" / f"dt={days[1]}" / "part-0001.csv"
    unreadable.write_bytes("id,customer\n1,Renée\n".encode("cp1252"))
    (s.landing_dir / "orders" / "dt=2018-13-45").mkdir()
    report = Runner(s, progress="quiet").run(windows=[(days[0], days[1])])
    assert report.exit_code == ExitCode.OK, report.failure
    assert [f.source_file for f in report.windows[0].quarantined] == [
        unreadable.relative_to(s.landing_dir).as_posix()
    ]
    accounting = dict(
        session()
        .sql(
            f"select source_file, file_status from {s.schema}.delivery_accounting "
            "where file_status in ('quarantined', 'reported')"
        )
        .collect()
    )
    assert accounting == {
        unreadable.relative_to(s.landing_dir).as_posix(): "quarantined",
        "orders/dt=2018-13-45/": "reported",
    }
    publisher = SparkPublisher(s)
    live = publisher.live()
    assert live in ("blue", "green")
    published = spark_checksums(s.schema)  # production: views onto the live copy
    assert published == spark_checksums(f"{s.schema}__{live}")
    assert publisher.published_runs() == {report.run_id}

    # The next delivery sells an item of a product the catalogue does not have.
    tiny_plan.land(s.landing_dir, only=days[2])
    bad = s.landing_dir / "items" / f"dt={days[2]}" / "part-0001.csv"
    with bad.open("w", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(COLUMNS["items"])
        writer.writerow(["item-x", "order-x", "NOPE-404", f"{days[2]}T10:00:00"])
    failed = Runner(s, progress="quiet").run(windows=[(days[2], days[2])])
    assert failed.exit_code == ExitCode.AUDIT_FAILED, failed.failure
    assert "relationships_stg_jaffle__items_product_sku" in (failed.failure or "")
    assert publisher.live() == live, "the failed audit did not publish"
    assert spark_checksums(s.schema) == published, "production is unchanged"
    assert publisher.published_runs() == {report.run_id}
    assert set(publisher.published_files()) == {
        f.relative_to(s.landing_dir).as_posix()
        for day in days[:2]
        for f in s.landing_dir.glob(f"*/dt={day}/*.csv")
    }

    # The bad file is taken back and the day publishes; a rollback re-points production at the
    # copy of the first publication, and a second rollback undoes the first.
    from durable.rollback import rollback

    bad.unlink()
    fixed = Runner(s, progress="quiet").run(windows=[(days[2], days[2])])
    assert fixed.exit_code == ExitCode.OK, fixed.failure
    after_fix = spark_checksums(s.schema)
    undo = rollback(s, None, "rollback")
    assert undo.exit_code == ExitCode.OK, undo.failure
    assert undo.undone_runs == [fixed.run_id]
    assert publisher.live() == live and spark_checksums(s.schema) == published
    redo = rollback(s, None, "rollback")
    assert redo.exit_code == ExitCode.OK, redo.failure
    assert redo.restored is not None and redo.restored.replaced_by == undo.rollback_id
    assert spark_checksums(s.schema) == after_fix
