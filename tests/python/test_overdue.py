"""Late deliveries are noticed, not only late data: each landed table says when its day's files
are due, `durable status` lists what has not landed in time, and `durable run` alerts once per
overdue delivery and publishes the rest (the clock is pinned with DURABLE_NOW). dbt's source
freshness is part of the gate and of the status."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from conftest import PROJECT_DIR
from durable.config import Settings
from durable.errors import ExitCode
from durable.landing.delivery import LandedFile
from durable.overdue import overdue_deliveries
from durable.sources import load_source_tables
from jaffle_simulator import DeliveryPlan
from test_runner import durable, settings_for

FIRST = date(2018, 9, 1)


def landed(entity: str, *days: date) -> list[LandedFile]:
    return [
        LandedFile(
            entity, day, Path(f"{entity}/dt={day}/part-0000.csv"), f"{entity}/{day}", "jaffle"
        )
        for day in days
    ]


def test_a_missing_day_is_overdue_once_its_time_has_passed() -> None:
    tables = load_source_tables(PROJECT_DIR)
    expected = {t.name: t.expected for t in tables if t.expected}
    assert set(expected) == {"orders", "items"}, "the reference project expects these daily"
    day = [FIRST + timedelta(days=n) for n in range(4)]
    deliveries = landed("orders", day[0], day[1], day[3]) + landed("items", day[0], day[1])
    # Day 3's orders were due at 06:00 on day 4; day 4's not before 06:00 on day 5.
    now = datetime.combine(day[3] + timedelta(days=1), datetime.min.time(), UTC) + timedelta(
        hours=7
    )
    late = {(o.table, o.day): o.late_by for o in overdue_deliveries(tables, deliveries, now)}
    assert late == {
        ("orders", day[2]): timedelta(hours=25),
        ("items", day[2]): timedelta(hours=25),
        ("items", day[3]): timedelta(hours=1),
    }
    # A minute before 06:00, nothing of day 4 is late yet; a table never delivered is not either.
    early = now - timedelta(hours=1, minutes=1)
    assert {(o.table, o.day) for o in overdue_deliveries(tables, deliveries, early)} == {
        ("orders", day[2]),
        ("items", day[2]),
    }
    assert overdue_deliveries(tables, landed("customers", *day), now) == []


@pytest.mark.slow
def test_run_alerts_once_per_overdue_delivery_and_publishes_the_rest(
    jafgen_cache: Path, tmp_path: Path
) -> None:
    plan = DeliveryPlan.build(seed=11, days=3, cache_dir=jafgen_cache)
    first, skipped, third = plan.delivery_dates
    alerts = tmp_path / "alerts.jsonl"
    settings = settings_for(tmp_path, alert_command=f"cat >> {alerts}")
    plan.land(settings.landing_dir, only=first)
    plan.land(settings.landing_dir, only=third)
    clock = {"DURABLE_NOW": f"{third + timedelta(days=1)}T07:30:00Z"}

    result = durable(settings, "run", **clock)
    assert result.returncode == ExitCode.OK, result.stderr[-2000:]
    assert "overdue" in result.stderr
    sent = [json.loads(line) for line in alerts.read_text().splitlines()]
    overdue = sorted((a["table"], a["delivery_date"], a["hours_late"]) for a in sent)
    assert overdue == [("items", str(skipped), 25.5), ("orders", str(skipped), 25.5)]
    assert all(a["event"] == "delivery_overdue" and a["source"] == "jaffle" for a in sent)

    status = json.loads(durable(settings, "status", "--json", **clock).stdout)
    assert {(o["table"], o["delivery_date"]) for o in status["overdue"]} == {
        ("orders", str(skipped)),
        ("items", str(skipped)),
    }
    assert {w["window_start"] for w in status["windows"] if w["state"] == "published"} == {
        str(first),
        str(third),
    }

    # The next run, an hour later: nothing new is late, so nothing is alerted again.
    later = {"DURABLE_NOW": f"{third + timedelta(days=1)}T08:30:00Z"}
    assert durable(settings, "run", **later).returncode == ExitCode.OK
    assert len(alerts.read_text().splitlines()) == len(sent)

    # The missing day lands: it is due, then published, and no longer overdue.
    plan.land(settings.landing_dir, only=skipped)
    assert durable(settings, "run", **later).returncode == ExitCode.OK
    text = durable(settings, "status", **later).stdout
    assert "overdue: none" in text


def age_raw_tables(settings: Settings, hours: int) -> None:
    """Behind the runner's back: every raw row loaded `hours` earlier than it was."""
    with duckdb.connect(str(settings.duckdb_path)) as con:
        tables = con.execute(
            "select table_name from information_schema.columns "
            "where table_schema = 'raw' and column_name = '_loaded_at'"
        ).fetchall()
        for (table,) in tables:
            con.execute(f'update raw."{table}" set _loaded_at = _loaded_at - interval {hours} hour')


@pytest.mark.slow
def test_dbt_source_freshness_gates_the_publish_and_shows_in_status(
    jafgen_cache: Path, tmp_path: Path
) -> None:
    plan = DeliveryPlan.build(seed=11, days=1, cache_dir=jafgen_cache)
    (day,) = plan.delivery_dates
    settings = settings_for(tmp_path)
    plan.land(settings.landing_dir, only=day)
    assert durable(settings, "run").returncode == ExitCode.OK

    # 30 hours without a load: past the project's warn_after (26 h), not its error_after (50 h).
    age_raw_tables(settings, 30)
    warned = durable(settings, "run", "--date", str(day))
    assert warned.returncode == ExitCode.OK, warned.stderr[-2000:]
    status = json.loads(durable(settings, "status", "--json").stdout)
    assert set(status["freshness"].values()) == {"warn"}
    assert "jaffle.orders" in status["freshness"]

    # 30 more: past error_after, so the window does not publish.
    age_raw_tables(settings, 30)
    before = hashlib.sha256(settings.duckdb_path.read_bytes()).hexdigest()
    stale = durable(settings, "run", "--date", str(day))
    assert stale.returncode == ExitCode.AUDIT_FAILED
    assert "source freshness: past error_after: jaffle." in stale.stderr
    assert hashlib.sha256(settings.duckdb_path.read_bytes()).hexdigest() == before
