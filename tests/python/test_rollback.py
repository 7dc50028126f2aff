"""`durable rollback`: production goes back to an earlier state exactly, and heals forward.

On DuckDB the restored file is the earlier production file, byte for byte; on PostgreSQL every
relation of the restored schema has the earlier checksum. Either way the windows undone are due
again, and the next run publishes the same marts as before the rollback.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from checks import relation_checksum, warehouse_checksums
from conftest import PostgresServer, connect, settings_under
from durable.cli import app
from durable.config import Settings
from durable.errors import ExitCode
from durable.ledger import Ledger
from durable.rollback import rollback
from durable.runner import Runner
from jaffle_simulator import DeliveryPlan

pytestmark = pytest.mark.slow


def settings_for(root: Path) -> Settings:
    return settings_under(root, lock_timeout=5, keep_publications=3)


def cli(settings: Settings, *args: str) -> Result:
    env = {
        "DURABLE_PROJECT_DIR": str(settings.project_dir),
        "DURABLE_LANDING_DIR": str(settings.landing_dir),
        "DURABLE_DUCKDB_PATH": str(settings.duckdb_path),
        "DURABLE_STATE_DIR": str(settings.state_dir),
        "DURABLE_PROD_STATE_DIR": str(settings.prod_state_dir),
        "DURABLE_KEEP_PUBLICATIONS": str(settings.keep_publications),
    }
    return CliRunner().invoke(app, list(args), env=env, catch_exceptions=False)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def publish_day(settings: Settings, plan: DeliveryPlan, index: int) -> str:
    plan.land(settings.landing_dir, only=plan.delivery_dates[index])
    report = Runner(settings, progress="quiet").run()
    assert report.exit_code == ExitCode.OK, report.failure
    return report.run_id


def window_states(settings: Settings) -> dict[str, str]:
    ledger = Ledger(settings.ledger_path)
    try:
        return {w.run_id: w.state for w in ledger.windows(50)}
    finally:
        ledger.close()


def test_duckdb_rollback_restores_the_earlier_file_and_the_next_run_heals(
    jafgen_cache: Path, tmp_path: Path
) -> None:
    plan = DeliveryPlan.build(seed=11, days=6, cache_dir=jafgen_cache)
    settings = settings_for(tmp_path)
    nothing = cli(settings, "rollback")
    assert nothing.exit_code == ExitCode.BAD_INPUT and "nothing to roll back to" in nothing.stderr

    runs, files = [], []
    for index in range(3):
        runs.append(publish_day(settings, plan, index))
        files.append(sha256(settings.duckdb_path))
    with connect(settings) as con:
        latest = warehouse_checksums(con)

    undo = cli(settings, "rollback")
    assert undo.exit_code == ExitCode.OK, undo.output
    assert f"rolled back to the state before {runs[2]}" in undo.stdout
    assert sha256(settings.duckdb_path) == files[1], "byte for byte the state before the latest"
    assert str(plan.delivery_dates[2]) in undo.stdout and "due again" in undo.stdout
    states = window_states(settings)
    assert states[runs[2]] == "rolled back" and states[runs[1]] == "published"
    status = cli(settings, "status", "--json")
    assert str(plan.delivery_dates[2]) in status.stdout.split('"dates"')[1].split("]")[0]

    # Further back, past the rollback itself: the state before the second run.
    older = cli(settings, "rollback", "--before", runs[1])
    assert older.exit_code == ExitCode.OK, older.output
    assert sha256(settings.duckdb_path) == files[0]
    unknown = cli(settings, "rollback", "--before", "no-such-run")
    assert unknown.exit_code == ExitCode.BAD_INPUT and "no kept state before" in unknown.stderr

    # The two undone days heal one by one, as they were first published: built together they
    # would give the snapshots one version for the two (docs/RUNNER.md, catch-up).
    heal = Runner(replace(settings, batch_days=1), progress="quiet").run()
    assert heal.exit_code == ExitCode.OK, heal.failure
    with connect(settings) as con:
        assert warehouse_checksums(con) == latest, "the next run publishes the same marts"
    kept = list((settings.duckdb_path.parent / "_kept").iterdir())
    assert len(kept) == settings.keep_publications, "only the last N states are kept"


def schema_checksums(settings: Settings, schema: str = "analytics") -> dict[str, tuple]:
    """Every table of the schema, every column: the state itself, not only the marts."""
    with connect(settings) as con, con.cursor() as cursor:
        cursor.execute(
            "select table_name from information_schema.tables "
            "where table_schema = %s and table_type = 'BASE TABLE'",
            [schema],
        )
        tables = sorted(name for (name,) in cursor.fetchall())
        return {table: relation_checksum(con, f"{schema}.{table}") for table in tables}


@pytest.mark.postgres
def test_postgres_rollback_restores_the_earlier_schema(
    jafgen_cache: Path, postgres_server: PostgresServer, tmp_path: Path
) -> None:
    plan = DeliveryPlan.build(seed=11, days=6, cache_dir=jafgen_cache)
    settings = postgres_server.new_database(settings_for(tmp_path))
    publish_day(settings, plan, 0)
    earlier = schema_checksums(settings)
    latest_run = publish_day(settings, plan, 1)
    with connect(settings) as con:
        latest = warehouse_checksums(con)

    report = rollback(settings, None, "rollback")
    assert report.exit_code == ExitCode.OK, report.failure
    assert report.undone_runs == [latest_run]
    assert report.undone_windows == [(plan.delivery_dates[1], plan.delivery_dates[1])]
    assert schema_checksums(settings) == earlier, "checksum for checksum the earlier state"

    heal = Runner(settings, progress="quiet").run()
    assert heal.exit_code == ExitCode.OK, heal.failure
    with connect(settings) as con:
        assert warehouse_checksums(con) == latest
