"""The bike-share example (`examples/bikeshare/`): the same runner and package on a second project.

Another source name, landing layout (`{date}/{table}.csv`), composite key and warehouse file: what
a team adopting durable by docs/ADOPTING.md gets. One warehouse processes four days of messy
deliveries (late, duplicated, corrected, malformed rows) through the runner (module fixture);
the tests re-run windows, rebuild from scratch, count every delivered row and break an audit.
"""

from __future__ import annotations

import csv
import hashlib
import importlib.util
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from types import ModuleType

import duckdb
import pytest
from dbt.cli.main import dbtRunner

from checks import AUDIT_COLUMNS, relation_checksum
from conftest import PROJECT_DIR
from durable.config import Settings
from durable.errors import ExitCode
from durable.ledger import Ledger
from durable.pipeline import process_window
from durable.runner import Runner
from durable.windows import days_of

pytestmark = pytest.mark.slow
EXAMPLE_DIR = PROJECT_DIR / "examples" / "bikeshare"
MARTS = ("fct_trips", "fct_station_days", "dim_stations")
QUARANTINE = ("quarantined_rows", "delivery_accounting")
FACTS = ("fct_trips", "fct_station_days")


def load_deliveries() -> ModuleType:
    """The example's delivery generator, a script of the example rather than a package."""
    spec = importlib.util.spec_from_file_location(
        "bikeshare_deliveries", EXAMPLE_DIR / "deliveries.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


deliveries = load_deliveries()


def settings_for(root: Path) -> Settings:
    return Settings(
        project_dir=EXAMPLE_DIR,
        profiles_dir=EXAMPLE_DIR,  # not a DBT_PROFILES_DIR of the caller's (the Makefile sets one)
        landing_dir=root / "landing",
        duckdb_path=root / "warehouse" / "bikeshare.duckdb",
        state_dir=root / "state",
        prod_state_dir=root / "prod-state",
        lock_timeout=5,
        retry_wait=0.2,
    )


def relations(path: Path) -> list[str]:
    """Every table and view of the warehouse: models, raw tables, the loader's ledger."""
    with duckdb.connect(str(path), read_only=True) as con:
        rows = con.execute(
            "select table_schema || '.' || table_name from information_schema.tables "
            "where table_catalog = current_database() order by 1"
        ).fetchall()
    return [name for (name,) in rows]


def checksums(path: Path, names: list[str], exclude: tuple[str, ...] = ()) -> dict:
    with duckdb.connect(str(path), read_only=True) as con:
        return {name: relation_checksum(con, name, exclude) for name in names}


def query(path: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql).fetchall()


@dataclass
class Daily:
    settings: Settings
    days: list[date]

    @property
    def production(self) -> Path:
        return self.settings.duckdb_path


@pytest.fixture(scope="module")
def daily(tmp_path_factory: pytest.TempPathFactory) -> Daily:
    """Four days landed, then one `durable run`: it finds them all due and catches up in one
    batched window, as it would on any project."""
    installed = dbtRunner().invoke(["--quiet", "deps", "--project-dir", str(EXAMPLE_DIR)])
    assert installed.success, installed.exception
    settings = settings_for(tmp_path_factory.mktemp("bikeshare"))
    days = deliveries.land(settings.landing_dir)
    report = Runner(settings, progress="quiet").run()
    assert report.exit_code == ExitCode.OK, report.failure
    assert days_of([(w.start, w.end) for w in report.windows]) == days
    return Daily(settings, days)


def test_the_mess_lands_as_intended(daily: Daily) -> None:
    """A correction updates its trip in place, a late trip lands on its own day, duplicates stay
    single, the corrected reading wins, and malformed rows are quarantined with their reason."""
    first, second, third = daily.days[:3]
    trips = {
        row[0]: row[1:]
        for row in query(
            daily.production,
            "select trip_id, end_station_id, trip_date, _delivery_date from analytics.fct_trips",
        )
    }
    plan = deliveries.plan()
    corrected = next(r for r in plan[second].rows["trips"] if r[0] == "t-1-01")
    assert trips["t-1-01"][0] == corrected[3]
    assert trips["t-1-11"][1:] == (first, third)  # late: delivered on day 3, ridden on day 1
    assert query(
        daily.production, "select count(*) - count(distinct trip_id) from analytics.fct_trips"
    ) == [(0,)]
    reading = next(r for r in plan[third].rows["dock_readings"] if r[1] == str(second))
    held = query(
        daily.production,
        "select bikes_available from analytics.fct_station_days "
        f"where station_id = '{reading[0]}' and reading_date = '{second}'",
    )
    assert held == [(int(reading[2]),)]
    reasons = {
        r[0] for r in query(daily.production, "select reason from analytics.quarantined_rows")
    }
    assert {"malformed timestamp: started_at", "malformed bigint: bikes_available"} <= reasons
    assert any(reason.startswith("unreadable line") for reason in reasons)


def test_rerunning_a_window_changes_nothing(daily: Daily) -> None:
    """Every table and view, raw and ledger included, `_invocation_id` too: no row rewritten."""
    names = [n for n in relations(daily.production) if not n.startswith("_durable.")]
    before = checksums(daily.production, names)
    middle, last = daily.days[1], daily.days[-1]
    report = Runner(daily.settings, progress="quiet").run([(middle, middle), (last, last)])
    assert report.exit_code == ExitCode.OK, report.failure
    assert all(not any(w.rows_changed.values()) for w in report.windows), report.windows
    assert checksums(daily.production, names) == before


def test_day_by_day_equals_one_full_refresh(daily: Daily, tmp_path: Path) -> None:
    rebuilt = replace(settings_for(tmp_path), landing_dir=daily.settings.landing_dir)
    result = process_window(rebuilt, None, None, full_refresh=True, quiet=True)
    assert result.success, [f"{n.unique_id}: {n.message}" for n in result.build.failures()]
    names = [f"analytics.{name}" for name in (*MARTS, *QUARANTINE)]
    incremental = checksums(daily.production, names, AUDIT_COLUMNS)
    full = checksums(rebuilt.duckdb_path, names, AUDIT_COLUMNS)
    assert incremental == full
    assert all(rows > 0 for rows, _ in incremental.values())


def delivered_records(landing: Path) -> dict[str, int]:
    """CSV records after the header of every landed file, counted here, not by the loader."""
    counted = {}
    for path in sorted(landing.glob("*/*.csv")):
        with path.open(newline="") as handle:
            counted[path.relative_to(landing).as_posix()] = sum(1 for _ in csv.reader(handle)) - 1
    return counted


def test_every_delivered_row_is_loaded_or_quarantined(daily: Daily) -> None:
    accounting = {
        row[0]: row[1:]
        for row in query(
            daily.production,
            "select source_file, file_status, rows_delivered, rows_loaded, rows_quarantined "
            "from analytics.delivery_accounting",
        )
    }
    delivered = delivered_records(daily.settings.landing_dir)
    assert accounting.keys() == delivered.keys()
    for source_file, records in delivered.items():
        status, rows_delivered, loaded, quarantined = accounting[source_file]
        assert status == "loaded", source_file
        assert rows_delivered == records == loaded + quarantined, source_file
    quarantined_rows = query(daily.production, "select count(*) from analytics.quarantined_rows")
    assert quarantined_rows == [(sum(row[3] for row in accounting.values()),)]
    assert quarantined_rows[0][0] >= 3


def run_cli(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    """`durable --project-dir examples/bikeshare ...` as an operator runs it."""
    env = dict(os.environ)
    env.update(
        DBT_PROFILES_DIR=str(settings.profiles_dir),
        DURABLE_LANDING_DIR=str(settings.landing_dir),
        DURABLE_DUCKDB_PATH=str(settings.duckdb_path),
        DURABLE_STATE_DIR=str(settings.state_dir),
        DURABLE_PROD_STATE_DIR=str(settings.prod_state_dir),
    )
    return subprocess.run(
        [sys.executable, "-m", "durable.cli", "--project-dir", str(EXAMPLE_DIR), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def ledger_windows(settings: Settings) -> list:
    ledger = Ledger(settings.ledger_path)
    try:
        return ledger.windows(20)
    finally:
        ledger.close()


def test_a_failed_audit_leaves_production_untouched(daily: Daily, tmp_path: Path) -> None:
    """A day whose trips start at a station nobody delivered breaks an error-severity test: the
    run exits 2, production is the same file byte for byte, the day stays due."""
    shutil.copytree(daily.settings.landing_dir.parent, tmp_path, dirs_exist_ok=True)
    settings = settings_for(tmp_path)
    bad_day = date(2024, 5, 5)
    folder = settings.landing_dir / bad_day.isoformat()
    folder.mkdir()
    with (folder / "trips.csv").open("w", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(deliveries.COLUMNS["trips"])
        writer.writerow(
            ["t-5-00", "b-101", "st-99", "st-01"]
            + [f"{bad_day} 10:{m:02d}:00" for m in (0, 20, 20)]
        )
    production = hashlib.sha256(settings.duckdb_path.read_bytes()).hexdigest()
    published = ledger_windows(settings)

    failed = run_cli(settings, "run", "--progress", "quiet")
    assert failed.returncode == ExitCode.AUDIT_FAILED, failed.stderr
    assert "relationships_fct_trips_start_station_id" in failed.stderr
    assert hashlib.sha256(settings.duckdb_path.read_bytes()).hexdigest() == production
    ledger = ledger_windows(settings)
    assert ledger[0].state == "failed" and ledger[0].window_start == bad_day
    assert [(w.run_id, w.window_start, w.state) for w in ledger[1:]] == [
        (w.run_id, w.window_start, w.state) for w in published
    ]
    status = run_cli(settings, "status")
    assert status.returncode == 0, status.stderr
    assert f"due: {bad_day}" in status.stdout


# An output named after nothing the runner knows, and a warehouse file of its own.
PROFILE_ELSEWHERE = """
bikeshare:
  target: prod
  outputs:
    prod:
      type: duckdb
      path: "{{ env_var('DURABLE_DUCKDB_PATH', '%s') }}"
      schema: "{{ env_var('DURABLE_SCHEMA', 'analytics') }}"
      threads: 2
"""


def test_a_profile_elsewhere_names_the_warehouse(daily: Daily, tmp_path: Path) -> None:
    """Started from another folder, with profiles.yml in a third (DBT_PROFILES_DIR) and no
    DURABLE_DUCKDB_PATH, the runner takes that profile's output (its `type`, whatever its name)
    and publishes into the output's `path`."""
    warehouse = tmp_path / "warehouse" / "fleet.duckdb"
    profiles = tmp_path / "profiles"
    profiles.mkdir()
    (profiles / "profiles.yml").write_text(PROFILE_ELSEWHERE % warehouse)
    landing = tmp_path / "landing"
    first = deliveries.land(landing, only=daily.days[0])[0]
    default = EXAMPLE_DIR / "data" / "warehouse" / "bikeshare.duckdb"
    before = default.stat().st_mtime_ns if default.exists() else None
    env = {k: v for k, v in os.environ.items() if k not in ("DURABLE_DUCKDB_PATH", "DBT_TARGET")}
    env.update(
        DBT_PROFILES_DIR=str(profiles),
        DURABLE_LANDING_DIR=str(landing),
        DURABLE_STATE_DIR=str(tmp_path / "state"),
        DURABLE_PROD_STATE_DIR=str(tmp_path / "prod-state"),
        DBT_TARGET_PATH=str(tmp_path / "target"),  # leave the project's partial parse alone
        PYTHONPATH=str(PROJECT_DIR),  # this checkout's runner, as the tests import it
    )
    started = tmp_path / "elsewhere"
    started.mkdir()
    command = [sys.executable, "-m", "durable.cli", "--project-dir", str(EXAMPLE_DIR)]
    result = subprocess.run(
        [*command, "run", "--progress", "quiet"],
        cwd=started,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == ExitCode.OK, result.stderr
    assert query(warehouse, "select distinct _delivery_date from analytics.fct_trips") == [(first,)]
    assert (default.stat().st_mtime_ns if default.exists() else None) == before
    assert list(started.iterdir()) == []  # nothing written where it was started

    # A profile whose path ignores DURABLE_DUCKDB_PATH would build outside the audit copy: the
    # run and `durable verify` stop before building anything.
    (profiles / "profiles.yml").write_text(
        PROFILE_ELSEWHERE.replace("env_var('DURABLE_DUCKDB_PATH', '%s')", "'%s'") % warehouse
    )
    production = hashlib.sha256(warehouse.read_bytes()).hexdigest()
    deliveries.land(landing, only=daily.days[1])
    refused = subprocess.run(
        [*command, "run", "--progress", "quiet"],
        cwd=started,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert refused.returncode == ExitCode.BAD_INPUT, refused.stderr
    assert "must read DURABLE_DUCKDB_PATH" in refused.stderr
    # Its full-refresh rebuild would have gone there too.
    verified = subprocess.run(
        [*command, "verify"], cwd=started, env=env, capture_output=True, text=True, timeout=300
    )
    assert verified.returncode == ExitCode.BAD_INPUT, verified.stdout + verified.stderr
    assert hashlib.sha256(warehouse.read_bytes()).hexdigest() == production
