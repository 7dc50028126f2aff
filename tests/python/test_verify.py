"""`durable verify`: a clean history passes; a row edited behind the runner's back is found.

Production is built day by day by the runner, as in use; the command runs in-process through
the CLI (typer's test runner), so each check costs its rebuild and not a Python start-up.
"""

from __future__ import annotations

import csv
import hashlib
import json
import shutil
from contextlib import closing
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner, Result

from checks import MARTS, relation_checksum
from conftest import PostgresServer, settings_under
from durable.cli import app
from durable.config import Settings
from durable.engines.postgres.connection import connect
from durable.errors import ExitCode
from durable.ledger import Ledger, VerifyRow, verifications
from durable.runner import Runner
from durable.verify import Scope, verify
from jaffle_simulator import COLUMNS, DeliveryPlan

pytestmark = pytest.mark.slow
DAYS = 3


def settings_for(root: Path, **overrides: object) -> Settings:
    return settings_under(root, **({"lock_timeout": 5} | overrides))


def cli(settings: Settings, *args: str) -> Result:
    env = {
        "DURABLE_PROJECT_DIR": str(settings.project_dir),
        "DURABLE_LANDING_DIR": str(settings.landing_dir),
        "DURABLE_DUCKDB_PATH": str(settings.duckdb_path),
        "DURABLE_STATE_DIR": str(settings.state_dir),
        "DURABLE_PROD_STATE_DIR": str(settings.prod_state_dir),
        "DURABLE_ALERT_COMMAND": settings.alert_command,
    }
    return CliRunner().invoke(app, list(args), env=env, catch_exceptions=False)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def last_verify(settings: Settings) -> VerifyRow:
    ledger = Ledger(settings.ledger_path)
    try:
        return verifications(ledger, limit=1)[0]
    finally:
        ledger.close()


@pytest.fixture(scope="module")
def history(jafgen_cache: Path, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Production after three days published one by one, as the runner does in use."""
    plan = DeliveryPlan.build(seed=11, days=6, cache_dir=jafgen_cache)
    settings = settings_for(tmp_path_factory.mktemp("history"))
    for day in plan.delivery_dates[:DAYS]:
        plan.land(settings.landing_dir, only=day)
        report = Runner(settings, progress="quiet").run()
        assert report.exit_code == ExitCode.OK, report.failure
    return settings


def days_of(settings: Settings) -> list[date]:
    with duckdb.connect(str(settings.duckdb_path), read_only=True) as con:
        rows = con.execute("select distinct _delivery_date from analytics.fct_orders order by 1")
        return [day for (day,) in rows.fetchall()]


def test_a_clean_history_passes_and_production_is_only_read(history: Settings) -> None:
    before = sha256(history.duckdb_path)
    result = cli(history, "verify")
    assert result.exit_code == ExitCode.OK, result.output
    assert "clean: " in result.stdout and "analytics.fct_orders" in result.stdout
    assert "analytics.snap_customers" in result.stdout, "snapshots' current rows are compared"
    assert sha256(history.duckdb_path) == before, "production is byte-for-byte unchanged"
    assert not (history.duckdb_path.parent / "_verify").exists(), "a clean check leaves nothing"

    row = last_verify(history)
    assert (row.state, row.exit_code, row.relations_drifted) == ("clean", 0, {})
    assert row.relations_checked >= 20  # every model and snapshot the manifest lists
    status = cli(history, "status")
    assert status.exit_code == 0, status.output
    assert "last verify: clean" in status.stdout


def test_a_row_edited_behind_the_runners_back_is_found(history: Settings, tmp_path: Path) -> None:
    # A copy of production with its own ledger and alert hook; the same landing zone.
    alerts = tmp_path / "alerts.jsonl"
    settings = settings_for(tmp_path, landing_dir=history.landing_dir)
    settings = replace(settings, alert_command=f"cat >> {alerts}")
    settings.duckdb_path.parent.mkdir(parents=True)
    shutil.copyfile(history.duckdb_path, settings.duckdb_path)
    first, last = days_of(settings)[0], days_of(settings)[-1]
    assert first < last

    # One order delivered on the last day and one on the first day of orders get a wrong amount.
    with duckdb.connect(str(settings.duckdb_path)) as con:
        edited = {}
        for day in (first, last):
            (order_id,) = con.execute(
                "select min(order_id) from analytics.fct_orders where _delivery_date = ?", [day]
            ).fetchone()
            con.execute(
                "update analytics.fct_orders set order_total = order_total + 1 where order_id = ?",
                [order_id],
            )
            edited[day] = order_id
    before = sha256(settings.duckdb_path)

    result = cli(settings, "verify", "--show", "5")
    assert result.exit_code == ExitCode.DRIFT, result.output
    assert "drift: 1 of" in result.stdout and "analytics.fct_orders (2 keys)" in result.stdout
    assert edited[first] in result.stdout and edited[last] in result.stdout
    assert sha256(settings.duckdb_path) == before, "production is byte-for-byte unchanged"

    row = last_verify(settings)
    assert (row.state, row.exit_code) == ("drift", ExitCode.DRIFT)
    drift = row.relations_drifted
    assert list(drift) == ["analytics.fct_orders"], "only the edited relation differs"
    assert drift["analytics.fct_orders"]["differing_keys"] == sorted(edited.values())
    payload = json.loads(alerts.read_text().splitlines()[-1])
    assert payload["event"] == "verify_drift" and payload["exit_code"] == ExitCode.DRIFT
    assert [r["relation"] for r in payload["relations"]] == ["analytics.fct_orders"]
    assert payload["relations"][0]["differing_keys"] == sorted(edited.values())
    assert "last verify: drift" in cli(settings, "status").stdout

    # A window compares the rows of its days: the edit inside it is found, the other is not.
    inside = cli(settings, "verify", "--date", str(last))
    assert inside.exit_code == ExitCode.DRIFT, inside.output
    assert edited[last] in inside.stdout and edited[first] not in inside.stdout
    assert "analytics.fct_orders (1 key)" in inside.stdout
    assert last_verify(settings).relations_drifted["analytics.fct_orders"]["differing_keys"] == [
        edited[last]
    ]
    earlier = verify(settings, Scope(start=first - timedelta(days=1), end=first))
    assert [(r.relation, r.differing_keys) for r in earlier.drifted] == [
        ("analytics.fct_orders", [edited[first]])
    ]

    # A sample is a fixed range of md5(key): bounded between the two keys, it holds one.
    low, high = sorted(edited.values(), key=lambda k: hashlib.md5(k.encode()).hexdigest())
    bounds = [int(hashlib.md5(k.encode()).hexdigest(), 16) for k in (low, high)]
    sampled = verify(settings, Scope(sample=sum(bounds) / 2 / 16**32))
    assert [(r.relation, r.differing_keys) for r in sampled.drifted] == [
        ("analytics.fct_orders", [low])
    ]
    assert sha256(settings.duckdb_path) == before


def test_status_json_is_the_ledger_and_the_landing_zone(history: Settings) -> None:
    """`durable status --json`, as a scheduler reads it: every window the ledger holds, nothing
    due after the runs, and every landed file counted once."""
    result = cli(history, "status", "--json")
    assert result.exit_code == 0, result.output
    status = json.loads(result.stdout)
    assert status["schema_version"] == 1
    ledger = Ledger(history.ledger_path)
    try:
        windows = ledger.windows(15)
    finally:
        ledger.close()
    assert [w["run_id"] for w in status["windows"]] == [w.run_id for w in windows]
    assert {w["state"] for w in status["windows"]} == {"published"}
    assert [w["window_start"] for w in status["windows"]] == [str(w.window_start) for w in windows]
    assert len(windows) == DAYS
    assert status["due"] == {"dates": [], "code_changes": {"models": [], "tests": []}}
    landed = [p for p in history.landing_dir.rglob("*") if p.is_file()]
    counts = status["landing_zone"]["counts"]
    assert sum(counts.values()) == len(landed) and counts["due"] == 0
    listed = {f["path"] for f in status["landing_zone"]["files"]}
    assert counts["loaded"] + len(listed) == len(landed)


def test_quarantine_lists_what_accounting_counts_and_exports_a_file(
    history: Settings, tmp_path: Path
) -> None:
    """`durable quarantine`, as the person on call and the source team use it: counts by file
    and reason that are delivery_accounting's, and one file's bad rows as delivered."""
    # A copy of production, and one more day whose orders file holds a malformed row.
    settings = settings_for(tmp_path / "prod")
    shutil.copytree(history.landing_dir, settings.landing_dir)
    settings.duckdb_path.parent.mkdir(parents=True)
    shutil.copyfile(history.duckdb_path, settings.duckdb_path)
    shutil.copytree(history.state_dir, settings.state_dir)
    shutil.copytree(history.prod_state_dir, settings.prod_state_dir)
    day = days_of(history)[-1] + timedelta(days=1)
    bad = settings.landing_dir / "orders" / f"dt={day}" / "part-0009.csv"
    bad.parent.mkdir(parents=True)
    with bad.open("w", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(COLUMNS["orders"])
        writer.writerow(
            [
                "o-bad",
                "c-1",
                f"{day}T09:00:00",
                "s-1",
                "12,50",
                "1",
                "13",
                "placed",
                f"{day}T09:00:00",
            ]
        )
    ran = Runner(settings, progress="quiet").run()
    assert ran.exit_code == ExitCode.OK, ran.failure

    listed = cli(settings, "quarantine", "--json")
    assert listed.exit_code == 0, listed.output
    report = json.loads(listed.stdout)
    accounting = report["delivery_accounting"]
    assert report["totals"] == {
        "rejected": accounting["rows_quarantined"],
        "held": accounting["rows_held"],
    }
    assert report["totals"]["rejected"] > 0
    bad_file = bad.relative_to(settings.landing_dir).as_posix()
    rejected = next(g for g in report["groups"] if g["source_file"] == bad_file)
    assert (rejected["status"], rejected["rows"]) == ("rejected", 1)
    assert "malformed" in rejected["reason"] and "subtotal" in rejected["reason"]
    assert "quarantine (delivery_accounting" in cli(settings, "quarantine").stdout

    out = tmp_path / "bad-rows.csv"
    exported = cli(settings, "quarantine", "--file", bad_file, "--export", str(out))
    assert exported.exit_code == 0, exported.output
    with out.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    with duckdb.connect(str(settings.duckdb_path), read_only=True) as con:
        expected = con.execute(
            "select _row_number, reason from analytics.quarantined_rows "
            "where _source_file = ? order by _row_number",
            [bad_file],
        ).fetchall()
        entity = rejected["entity"]
        delivered = dict(
            con.execute(
                f"select _row_number, subtotal from {settings.raw_schema}.{entity} "
                "where _source_file = ?",
                [bad_file],
            ).fetchall()
        )
    assert [(int(r["row_number"]), r["reason"]) for r in rows] == expected
    assert [r["subtotal"] for r in rows] == ["12,50"], "the text as delivered, to fix and re-send"
    assert [r["subtotal"] for r in rows] == [delivered[int(r["row_number"])] for r in rows]

    missing = cli(
        settings, "quarantine", "--file", "nope/dt=2018-09-01/x.csv", "--export", str(out)
    )
    assert missing.exit_code == ExitCode.BAD_INPUT and "holds no delivery" in missing.stderr


def test_bad_arguments_and_other_engines_exit_with_one_line(
    history: Settings, tmp_path: Path
) -> None:
    bad = cli(history, "verify", "--sample-keys", "1.5")
    assert bad.exit_code == ExitCode.BAD_INPUT and "--sample-keys" in bad.stderr
    report = verify(replace(history, target="spark", state_dir=tmp_path), Scope())
    assert report.exit_code == ExitCode.BAD_INPUT
    assert report.failure is not None
    assert report.failure.startswith("durable verify is not supported on spark")


def marts_checksums(settings: Settings) -> dict[str, tuple[int, str]]:
    with closing(connect(settings)) as con:
        return {mart: relation_checksum(con, f"analytics.{mart}") for mart in MARTS}


@pytest.mark.postgres
def test_postgres_finds_an_edited_row_and_only_reads_production(
    jafgen_cache: Path, postgres_server: PostgresServer, tmp_path: Path
) -> None:
    """The same check on PostgreSQL: the rebuild goes to scratch schemas of the database,
    production's schema is compared with them and left as it was."""
    plan = DeliveryPlan.build(seed=11, days=6, cache_dir=jafgen_cache)
    settings = postgres_server.new_database(settings_for(tmp_path))
    for day in plan.delivery_dates[:2]:
        plan.land(settings.landing_dir, only=day)
        report = Runner(settings, progress="quiet").run()
        assert report.exit_code == ExitCode.OK, report.failure

    clean = verify(settings, Scope())
    assert clean.exit_code == ExitCode.OK, clean.failure
    assert len(clean.results) >= 20 and not clean.drifted
    assert {r.relation for r in clean.results} >= {
        "analytics.fct_orders",
        "analytics.snap_customers",
    }

    with closing(connect(settings)) as con, con, con.cursor() as cursor:
        cursor.execute("select min(order_id) from analytics.fct_orders")
        (edited,) = cursor.fetchone()
        cursor.execute(
            "update analytics.fct_orders set order_total = order_total + 1 where order_id = %s",
            [edited],
        )
    production = marts_checksums(settings)

    drift = verify(settings, Scope())
    assert drift.exit_code == ExitCode.DRIFT, drift.failure
    assert [(r.relation, r.differing_keys) for r in drift.drifted] == [
        ("analytics.fct_orders", [edited])
    ]
    assert drift.kept == f"{settings.pg_database}.analytics__verify"
    assert marts_checksums(settings) == production, "production is checksum-for-checksum unchanged"
    assert last_verify(settings).state == "drift"
