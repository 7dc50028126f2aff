"""`durable run` under the failures production sees: kills, locks, bad SQL, bad data, gaps, rivals.

Runs go through the real CLI in subprocesses (kill -9 needs a process to kill); production is
compared with checksums of the states a clean run publishes, window by window.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest

from checks import query_function, warehouse_checksums
from conftest import ENGINES, PROJECT_DIR, connect, engine_server, settings_under
from durable.config import Settings
from durable.dbt import forget_manifest
from durable.dbt import manifest as dbt_manifest
from durable.engines import publisher_for
from durable.errors import ExitCode
from durable.ledger import Ledger
from durable.runner import Runner, RunReport
from jaffle_simulator import COLUMNS, DeliveryPlan

pytestmark = pytest.mark.slow
DURABLE = [sys.executable, "-m", "durable.cli"]


def settings_for(root: Path, **overrides: object) -> Settings:
    return settings_under(root, **({"lock_timeout": 5, "retry_wait": 0.2} | overrides))


def environment(settings: Settings, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DURABLE_LANDING_DIR=str(settings.landing_dir),
        DURABLE_DUCKDB_PATH=str(settings.duckdb_path),
        DURABLE_STATE_DIR=str(settings.state_dir),
        DURABLE_PROD_STATE_DIR=str(settings.prod_state_dir),
        DURABLE_LOCK_TIMEOUT=str(settings.lock_timeout),
        DURABLE_RETRY_WAIT=str(settings.retry_wait),
        DURABLE_PROJECT_DIR=str(settings.project_dir),
        DURABLE_ALERT_COMMAND=settings.alert_command,
        DURABLE_BATCH_DAYS=str(settings.batch_days),
    )
    env.update(extra)
    return env


def durable(settings: Settings, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*DURABLE, *args, "--progress", "quiet"]
        if args and args[0] == "run"
        else [*DURABLE, *args],
        env=environment(settings, **extra),
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def production(settings: Settings) -> dict:
    with duckdb.connect(str(settings.duckdb_path), read_only=True) as con:
        return warehouse_checksums(con)


def land_with_unknown_product(plan: DeliveryPlan, landing: Path, day: date) -> Path:
    """Land the day's deliveries plus a file selling an item of a product the catalogue does
    not have, so the relationships test fails; returns that file."""
    plan.land(landing, only=day)
    bad = landing / "items" / f"dt={day}" / "part-0001.csv"
    with bad.open("w", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(COLUMNS["items"])
        writer.writerow(["item-x", "order-x", "NOPE-404", f"{day}T10:00:00"])
    return bad


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def small_plan(jafgen_cache: Path) -> DeliveryPlan:
    return DeliveryPlan.build(seed=11, days=6, cache_dir=jafgen_cache)


@pytest.fixture(scope="module")
def clean_states(small_plan: DeliveryPlan, tmp_path_factory: pytest.TempPathFactory) -> list[dict]:
    """Production after each window of an undisturbed run of the first three days, two days
    at most per window: a catch-up of days 1-2 built together, then day 3."""
    settings = settings_for(tmp_path_factory.mktemp("clean"), batch_days=2)
    days = small_plan.delivery_dates[:3]
    small_plan.land(settings.landing_dir, through=days[-1])
    states = []
    for window in [(days[0], days[1]), (days[2], days[2])]:
        report = Runner(settings, progress="quiet").run([window])
        assert report.exit_code == ExitCode.OK, report.failure
        states.append(production(settings))
    return states


KILL_POINTS = [
    {"DURABLE_FAILPOINT": "load:after-file"},
    {"DURABLE_KILL_AFTER_NODES": "1"},
    {"DURABLE_KILL_AFTER_NODES": "12"},
    {"DURABLE_FAILPOINT": "audit:after-copy"},
    {"DURABLE_KILL_AFTER_NODES": "30"},
    {"DURABLE_FAILPOINT": "build:before"},
    {"DURABLE_KILL_AFTER_NODES": "60"},
    {"DURABLE_KILL_AFTER_NODES": "95"},
    {"DURABLE_FAILPOINT": "publish:before"},
    {"DURABLE_FAILPOINT": "publish:before-rename"},
    {"DURABLE_KILL_AFTER_NODES": "118"},
    {"DURABLE_FAILPOINT": "publish:after-rename"},  # days 1-2 are published, the run dies after
    {"DURABLE_KILL_AFTER_NODES": "3"},
    {"DURABLE_KILL_AFTER_NODES": "45"},
    {"DURABLE_FAILPOINT": "load:after-file"},
    {"DURABLE_KILL_AFTER_NODES": "80"},
    {"DURABLE_KILL_AFTER_NODES": "110"},
    {"DURABLE_FAILPOINT": "publish:before-rename"},
    {"DURABLE_KILL_AFTER_NODES": "122"},
    {"DURABLE_FAILPOINT": "publish:after-rename"},  # day 3 is published, the run dies after
]

READER = """
import json, sys, time, duckdb
sys.path.insert(0, sys.argv[3])
from checks import warehouse_checksums
allowed = [json.dumps(s, sort_keys=True) for s in json.load(open(sys.argv[2]))]
seen, bad = 0, []
while True:
    try:
        con = duckdb.connect(sys.argv[1], read_only=True)
    except Exception:
        time.sleep(0.05)
    else:
        try:
            state = json.dumps(warehouse_checksums(con), sort_keys=True)
            seen += 1
            if state not in allowed:
                bad.append(state)
        except Exception as error:
            if "does not exist" not in str(error):
                bad.append(repr(error))
        finally:
            con.close()
    with open(sys.argv[4], "w") as out:
        json.dump({"seen": seen, "bad": bad[:3]}, out)
    time.sleep(0.05)
"""


def test_killed_anywhere_production_is_always_a_clean_state(
    small_plan: DeliveryPlan, clean_states: list[dict], tmp_path: Path
) -> None:
    settings = settings_for(tmp_path, batch_days=2)
    days = small_plan.delivery_dates[:3]
    small_plan.land(settings.landing_dir, through=days[-1])
    states = [json.loads(json.dumps(s)) for s in clean_states]  # tuples become lists, as on disk
    (tmp_path / "states.json").write_text(json.dumps(states))
    settings.duckdb_path.parent.mkdir(parents=True)
    reader = subprocess.Popen(
        [
            sys.executable,
            "-c",
            READER,
            str(settings.duckdb_path),
            str(tmp_path / "states.json"),
            str(Path(__file__).parent),
            str(tmp_path / "reader.json"),
        ],
    )
    try:
        for point in KILL_POINTS:
            result = durable(settings, "run", **point)
            assert result.returncode == -9, f"{point} did not kill the run: {result.stderr[-800:]}"
            if settings.duckdb_path.exists():
                now = json.loads(json.dumps(production(settings)))
                assert now in states, f"after kill at {point}, production is not a clean state"
        final = durable(settings, "run")
        assert final.returncode == 0, final.stderr[-2000:]
    finally:
        time.sleep(0.3)
        reader.kill()
    assert json.loads(json.dumps(production(settings))) == states[-1]

    probe = json.loads((tmp_path / "reader.json").read_text())
    assert probe["seen"] > 0 and probe["bad"] == [], probe

    ledger = Ledger(settings.ledger_path)
    try:
        runs = ledger.runs(limit=100)
        windows = ledger.windows(limit=500)
    finally:
        ledger.close()
    assert len(runs) == len(KILL_POINTS) + 1
    assert [r[4] for r in runs].count("crashed") == len(KILL_POINTS)
    assert runs[0][4] == "succeeded"
    assert not [w for w in windows if w.state == "running"]
    published = sorted(w.window_start for w in windows if w.state == "published")
    assert published == days, "each day is published exactly once, in order"
    batches = {w.batch for w in windows if w.state == "published"}
    assert batches == {f"{days[0]}..{days[1]}", None}, "days 1-2 were built together"
    leftovers = list((settings.duckdb_path.parent / "_audit").glob("*"))
    assert leftovers == [], "crashed runs' audit copies are cleaned up"
    with duckdb.connect(str(settings.duckdb_path), read_only=True) as con:
        # Views (staging) work in the published file, not only tables.
        assert con.execute("select count(*) from analytics.stg_jaffle__orders").fetchone()[0] > 0


def test_transient_lock_is_retried_and_the_attempts_recorded(
    small_plan: DeliveryPlan, tmp_path: Path
) -> None:
    settings = settings_for(tmp_path)
    first, second = small_plan.delivery_dates[:2]
    small_plan.land(settings.landing_dir, only=first)
    assert Runner(settings, progress="quiet").run().exit_code == ExitCode.OK
    small_plan.land(settings.landing_dir, only=second)

    # Held for 10 s: with both cores busy the run took over 4 s to reach the file, and found it
    # free. Its retries wait about 0.5, 1, 2, 4 and 8 s, so the run still gets through.
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('held', flush=True); "
            "time.sleep(10); c.close()",
            str(settings.duckdb_path),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout.readline().strip() == "held"
    result = durable(settings, "run", DURABLE_RETRY_ATTEMPTS="10", DURABLE_RETRY_WAIT="0.5")
    holder.wait()
    assert result.returncode == 0, result.stderr[-2000:]
    ledger = Ledger(settings.ledger_path)
    try:
        latest = ledger.windows(limit=1)[0]
        run = ledger.runs(limit=1)[0]
    finally:
        ledger.close()
    assert latest.window_start == second and latest.state == "published"
    assert run[4] == "succeeded"
    assert run[7] >= 1, "the held lock should have cost at least one retry"
    assert "Could not set lock" in result.stderr


def copy_project(tmp_path: Path) -> Path:
    """The dbt project alone (no data, no Python tests), to edit without touching the real one."""
    project = tmp_path / "project"
    shutil.copytree(
        PROJECT_DIR,
        project,
        ignore=shutil.ignore_patterns(".venv", "data", "target", "logs", ".git", "tests"),
    )
    (project / "tests").mkdir()
    for singular in (PROJECT_DIR / "tests").glob("*.sql"):
        shutil.copy2(singular, project / "tests")
    return project


def test_sql_error_fails_once_naming_the_model(small_plan: DeliveryPlan, tmp_path: Path) -> None:
    project = copy_project(tmp_path)
    broken = project / "models" / "marts" / "dim_stores.sql"
    broken.write_text(broken.read_text().replace("tax_rate,", "tax_rate_typo,"))
    settings = settings_for(tmp_path, project_dir=project)
    small_plan.land(settings.landing_dir, only=small_plan.delivery_dates[0])

    report = Runner(settings, progress="quiet").run()
    assert report.exit_code == ExitCode.BUILD_ERROR
    assert "dim_stores" in report.failure and "tax_rate_typo" in report.failure
    assert report.windows[0].attempts == 1, "a SQL error is never retried"
    assert not settings.duckdb_path.exists(), "nothing was published"


def test_a_window_builds_what_its_deliveries_feed_and_what_the_project_changed(
    small_plan: DeliveryPlan, tmp_path: Path
) -> None:
    project = copy_project(tmp_path)
    settings = settings_for(tmp_path / "selected", project_dir=project)
    first, second = small_plan.delivery_dates[:2]
    small_plan.land(settings.landing_dir, only=first)
    assert Runner(settings, progress="quiet").run().exit_code == ExitCode.OK
    # The same production, landing and state, run by a twin that builds the whole project.
    shutil.copytree(tmp_path / "selected", tmp_path / "everything")
    everything = settings_for(tmp_path / "everything", project_dir=project, build_all=True)

    # A change to a mart ships the next day, though its source (stores) delivers nothing then.
    dim_stores = project / "models" / "marts" / "dim_stores.sql"
    dim_stores.write_text(
        dim_stores.read_text().replace("store_name,", "upper(store_name) as store_name,")
    )
    for root in (settings, everything):
        forget_manifest(publisher_for(root).audit_settings())  # as a new day's process would
        small_plan.land(root.landing_dir, only=second)
    delivered = {p.parent.parent.name for p in settings.landing_dir.glob(f"*/dt={second}/*.csv")}
    assert "orders" in delivered and not {"stores", "products"} & delivered

    selected = Runner(settings, progress="quiet").run()
    assert selected.exit_code == ExitCode.OK, selected.failure
    whole = Runner(everything, progress="quiet").run()
    assert whole.exit_code == ExitCode.OK, whole.failure

    ran = selected.windows[0].nodes
    assert "model.jaffle_shop.fct_orders" in ran, "what the day's orders feed is rebuilt"
    assert "model.jaffle_shop.dim_stores" in ran, "the changed model is rebuilt"
    assert "model.jaffle_shop.stg_jaffle__products" not in ran, "nothing new reached products"
    assert any(n.startswith("test.jaffle_shop.") and "source_" in n for n in ran), (
        "source tests run daily"
    )
    assert len(ran) < len(whole.windows[0].nodes)
    assert production(settings) == production(everything), "the same tables either way"
    with duckdb.connect(str(settings.duckdb_path), read_only=True) as con:
        names = con.execute("select store_name from analytics.dim_stores").fetchall()
    assert names and all(name == name.upper() for (name,) in names)


def test_unit_tests_gate_each_code_change_and_are_left_out_on_code_they_passed_on(
    small_plan: DeliveryPlan, tmp_path: Path
) -> None:
    project = copy_project(tmp_path)
    settings = settings_for(tmp_path / "run", project_dir=project)
    audit = publisher_for(settings).audit_settings()

    def run_day(day: date) -> RunReport:
        forget_manifest(audit)  # as a new day's process would
        small_plan.land(settings.landing_dir, only=day)
        return Runner(settings, progress="quiet").run()

    def unit_tests(report: RunReport) -> set[str]:
        nodes = report.windows[0].nodes.values()
        return {n.unique_id for n in nodes if n.resource_type == "unit_test"}

    first, second, third = small_plan.delivery_dates[:3]
    day_one = run_day(first)
    assert day_one.exit_code == ExitCode.OK, day_one.failure
    every_unit_test = set(dbt_manifest(audit).unit_tests)
    assert len(every_unit_test) >= 5 and unit_tests(day_one) == every_unit_test

    day_two = run_day(second)
    assert day_two.exit_code == ExitCode.OK, day_two.failure
    assert unit_tests(day_two) == set(), "the same code: they could only pass again"
    assert day_two.windows[0].tests_passed > 0, "the data tests still gate the day"
    published = sha256(settings.duckdb_path)

    # An edit that stops recomputing an order when one of its items arrives late.
    fct_orders = project / "models" / "marts" / "fct_orders.sql"
    late_items = "        also_when={'order_id': ref('stg_jaffle__items')},\n"
    assert late_items in fct_orders.read_text()
    fct_orders.write_text(fct_orders.read_text().replace(late_items, ""))

    day_three = run_day(third)
    assert day_three.exit_code == ExitCode.AUDIT_FAILED, day_three.failure
    assert unit_tests(day_three) == every_unit_test, "a change runs every unit test"
    failed = [n.unique_id for n in day_three.windows[0].nodes.values() if n.status == "fail"]
    assert failed == [
        "unit_test.jaffle_shop.fct_orders.fct_orders_merges_late_rows_within_the_lookback_only"
    ]
    assert sha256(settings.duckdb_path) == published, "production is unchanged"


def test_failing_test_blocks_publish_and_alerts(small_plan: DeliveryPlan, tmp_path: Path) -> None:
    alerts = tmp_path / "alerts.jsonl"
    settings = settings_for(tmp_path, alert_command=f"cat >> {alerts}")
    first, second = small_plan.delivery_dates[:2]
    small_plan.land(settings.landing_dir, only=first)
    assert Runner(settings, progress="quiet").run().exit_code == ExitCode.OK
    published = sha256(settings.duckdb_path)

    # The next delivery sells an item of a product the catalogue does not have.
    land_with_unknown_product(small_plan, settings.landing_dir, second)

    result = durable(settings, "run")
    assert result.returncode == ExitCode.AUDIT_FAILED, result.stderr[-2000:]
    assert "relationships_stg_jaffle__items_product_sku" in result.stderr
    assert sha256(settings.duckdb_path) == published, "production is byte-for-byte unchanged"
    kept = list((settings.duckdb_path.parent / "_failed").glob("*/*.duckdb"))
    assert len(kept) == 1, "the failed audit copy is kept for inspection"
    with duckdb.connect(str(kept[0]), read_only=True) as con:
        assert (
            con.execute("select count(*) from raw.items where sku = 'NOPE-404'").fetchone()[0] == 1
        )
    payload = json.loads(alerts.read_text().splitlines()[-1])
    assert payload["status"] == "audit_failed" and payload["exit_code"] == 2
    assert any("relationships" in node for node in payload["failing_nodes"])


def test_missing_days_and_late_files_heal_themselves(
    small_plan: DeliveryPlan, tmp_path: Path
) -> None:
    settings = settings_for(tmp_path)
    days = small_plan.delivery_dates[:5]
    small_plan.land(settings.landing_dir, only=days[0])
    assert Runner(settings, progress="quiet").run().exit_code == ExitCode.OK
    # Three days land while nothing runs, then a bare run catches up: one window, one audit
    # copy and one build for the three, and a ledger row for each day.
    for day in days[1:4]:
        small_plan.land(settings.landing_dir, only=day)
    report = Runner(settings, progress="quiet").run()
    assert report.exit_code == ExitCode.OK, report.failure
    assert [(w.start, w.end) for w in report.windows] == [(days[1], days[3])]
    ledger = Ledger(settings.ledger_path)
    try:
        rows = [w for w in ledger.windows(10) if w.run_id == report.run_id]
    finally:
        ledger.close()
    assert sorted(w.window_start for w in rows) == days[1:4]
    assert {(w.state, w.batch) for w in rows} == {("published", f"{days[1]}..{days[3]}")}
    caught_up = production(settings)
    again = Runner(settings, progress="quiet").run()
    assert (again.exit_code, again.windows) == (ExitCode.OK, []), "nothing is due twice"
    assert production(settings) == caught_up

    # A late file for an already published day makes that day run again.
    late_day = days[2]
    late = settings.landing_dir / "orders" / f"dt={late_day}" / "part-0001.csv"
    customer, store = (
        duckdb.connect(str(settings.duckdb_path), read_only=True)
        .execute("select customer_id, store_id from analytics.fct_orders limit 1")
        .fetchone()
    )
    with late.open("w", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(COLUMNS["orders"])
        stamp = f"{late_day}T15:00:00"
        writer.writerow(["late-1", customer, stamp, store, "900", "54", "954", "placed", stamp])
    report = Runner(settings, progress="quiet").run()
    assert [w.start for w in report.windows] == [late_day]

    rebuilt = settings_for(tmp_path / "rebuilt", landing_dir=settings.landing_dir)
    from durable.pipeline import process_window

    full = process_window(rebuilt, None, None, full_refresh=True, quiet=True)
    assert full.success
    with duckdb.connect(str(rebuilt.duckdb_path), read_only=True) as con:
        expected = warehouse_checksums(con, snapshots=False)
    with duckdb.connect(str(settings.duckdb_path), read_only=True) as con:
        assert warehouse_checksums(con, snapshots=False) == expected
        assert (
            con.execute(
                "select order_date from analytics.fct_orders where order_id = 'late-1'"
            ).fetchone()[0]
            == late_day
        )


def test_two_runs_at_once_one_waits_or_steps_aside(
    small_plan: DeliveryPlan, tmp_path: Path
) -> None:
    settings = settings_for(tmp_path, lock_timeout=0.5)
    small_plan.land(settings.landing_dir, through=small_plan.delivery_dates[1])
    both = [
        subprocess.Popen(
            [*DURABLE, "run", "--progress", "quiet"],
            env=environment(settings),
            cwd=PROJECT_DIR,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outcomes = [p.wait(timeout=600) for p in both]
    errors = [p.stderr.read() for p in both]
    assert sorted(outcomes) == [ExitCode.OK, ExitCode.LOCKED], errors
    locked = errors[outcomes.index(ExitCode.LOCKED)]
    assert "another durable run holds" in locked

    single = settings_for(tmp_path / "single", landing_dir=settings.landing_dir)
    assert Runner(single, progress="quiet").run().exit_code == ExitCode.OK
    assert production(settings) == production(single)


def test_bad_arguments_exit_with_the_bad_input_code(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    assert durable(settings, "run", "--date", "2018-13-01").returncode == ExitCode.BAD_INPUT
    result = durable(settings, "run", "--start", "2018-09-05", "--end", "2018-09-01")
    assert result.returncode == ExitCode.BAD_INPUT
    assert "before --start" in result.stderr


def test_status_shows_the_ledger_and_what_is_due(small_plan: DeliveryPlan, tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    first, second = small_plan.delivery_dates[:2]
    small_plan.land(settings.landing_dir, only=first)
    assert Runner(settings, progress="quiet").run().exit_code == ExitCode.OK
    small_plan.land(settings.landing_dir, only=second)
    result = durable(settings, "status")
    assert result.returncode == 0, result.stderr
    assert "published" in result.stdout
    assert f"due: {second}" in result.stdout
    assert date.fromisoformat(str(second)) - timedelta(days=1) == first


@pytest.mark.parametrize("engine", ENGINES)
def test_write_audit_publish_on_each_engine(
    engine: str, small_plan: DeliveryPlan, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """The runner's gate on DuckDB (file rename) and PostgreSQL (schema swap): a window is
    published only when its audit passed, a failed audit leaves production as it was and is kept
    for inspection, and production records what it published."""
    settings = settings_for(tmp_path, target="duckdb")
    server = engine_server(request, engine)
    if server is not None:
        settings = server.new_database(settings)
    publisher = publisher_for(settings)
    first, second = small_plan.delivery_dates[:2]
    small_plan.land(settings.landing_dir, only=first)
    report = Runner(settings, progress="quiet").run()
    assert report.exit_code == ExitCode.OK, report.failure
    assert [w.start for w in report.windows] == [first]
    assert report.windows[0].rows_changed["fct_orders"] > 0
    with connect(settings) as con:
        published = warehouse_checksums(con)
    assert publisher.published_runs() == {report.run_id}
    landed = {
        p.relative_to(settings.landing_dir).as_posix() for p in settings.landing_dir.rglob("*.csv")
    }
    assert set(publisher.published_files()) == landed

    # The next delivery sells an item of a product the catalogue does not have.
    bad = land_with_unknown_product(small_plan, settings.landing_dir, second)
    failed = Runner(settings, progress="quiet").run()
    assert failed.exit_code == ExitCode.AUDIT_FAILED, failed.failure
    assert "relationships_stg_jaffle__items_product_sku" in failed.failure
    with connect(settings) as con:
        assert warehouse_checksums(con) == published, "production is unchanged"
    assert publisher.published_runs() == {report.run_id}
    ledger = Ledger(settings.ledger_path)
    try:
        kept = ledger.windows(limit=1)[0].audit_path
    finally:
        ledger.close()
    assert kept and failed.run_id in kept, "the failed audit copy is kept for inspection"

    # The source re-sends the file corrected (here: withdrawn, header only); the day heals.
    bad.write_text("id,order_id,sku,updated_at\n")
    healed = Runner(settings, progress="quiet").run()
    assert healed.exit_code == ExitCode.OK, healed.failure
    assert [w.start for w in healed.windows] == [second]
    assert publisher.published_runs() == {report.run_id, healed.run_id}
    again = Runner(settings, progress="quiet").run()
    assert again.exit_code == ExitCode.OK and again.windows == [], "nothing is due any more"

    single = settings_for(tmp_path / "single", landing_dir=settings.landing_dir, target="duckdb")
    if server is not None:
        single = server.new_database(single)
    assert Runner(single, progress="quiet").run([(first, second)]).exit_code == ExitCode.OK
    with connect(settings) as con, connect(single) as reference:
        assert warehouse_checksums(con, snapshots=False) == warehouse_checksums(
            reference, snapshots=False
        )
        # Views (staging) work in the published schema or file, not only tables.
        rows = query_function(con)("select count(*) from analytics.stg_jaffle__orders")[0][0]
        assert rows > 0
