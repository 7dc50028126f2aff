"""Hand-made bad deliveries on a published warehouse: the pipeline goes on, and nothing is lost.

A source system breaks the landing zone in ways the simulator's fault generator does not: a day's
orders split over files with an upper-case header, CRLF, gzip (named `.csv` or not), `.CSV`, and
a header column whose name is SQL aimed at another file; customers whose names hold quotes,
semicolons and comment markers; a cp1252 file, random bytes, a symlink, a stray file, an
impossible partition folder and a delivery dated 2030. One runner run must publish every good
row, quarantine or report the rest with one alert each, read no other file, and account for every
file; a corrected re-delivery then takes over from the quarantine by itself.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
import sqlite3
import uuid
from datetime import date
from pathlib import Path

import pytest

from conftest import ENGINES, Warehouse, engine_server
from durable.errors import ExitCode
from durable.quarantine import releases
from durable.runner import Runner
from jaffle_simulator import DeliveryPlan
from test_runner import copy_project, durable, settings_for

pytestmark = pytest.mark.slow
FIRST, SECOND = date(2018, 9, 1), date(2018, 9, 2)
DAY = f"dt={SECOND}"
HOSTILE_NAMES = [
    "O'Brien; drop table analytics.fct_orders; --",
    "x'), ('y",
    "read_text('/etc/hostname') /* comment */",
    '"quoted", with a comma',
    "two\nlines",
]


def rows_of(path: Path) -> tuple[list[str], list[list[str]]]:
    with path.open(newline="") as handle:
        header, *rows = list(csv.reader(handle))
    return header, rows


def csv_bytes(header: list[str], rows: list[list[str]], line_end: str = "\n") -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator=line_end).writerows([header, *rows])
    return buffer.getvalue().encode()


def alerts(path: Path) -> list[dict]:
    """The alerts about files (on the system clock, the 2018 deliveries' later days are also
    overdue: tests/python/test_overdue.py hears of those)."""
    lines = path.read_text().splitlines() if path.exists() else []
    sent = [json.loads(line) for line in lines]
    return [a for a in sent if a["event"] not in ("delivery_overdue", "deliveries_overdue")]


def every_file(landing: Path) -> set[str]:
    """Every file of the landing zone as a person would list it: links are files, not followed."""
    found = set()
    for folder, folders, files in os.walk(landing):
        for name in files + [f for f in folders if Path(folder, f).is_symlink()]:
            found.add(Path(folder, name).relative_to(landing).as_posix())
    return found


def break_day_two(landing: Path, secret: Path) -> dict[str, str]:
    """Rewrite day two as a careless source would; return each bad path and what it must be."""
    orders = landing / "orders" / DAY
    header, rows = rows_of(orders / "part-0000.csv")
    parts = [rows[i::5] for i in range(5)]
    (orders / "part-0000.csv").write_bytes(
        csv_bytes([f" {name.upper()} " for name in header], parts[0], "\r\n")
    )
    (orders / "part-0001.CSV").write_bytes(csv_bytes(header, parts[1]))
    (orders / "part-0002.csv.gz").write_bytes(gzip.compress(csv_bytes(header, parts[2])))
    (orders / "part-0003.csv").write_bytes(gzip.compress(csv_bytes(header, parts[3])))
    injected = f"zz': 'varchar'}}) union all select content as id from read_text('{secret}') --"
    (orders / "part-0004.csv").write_bytes(
        csv_bytes([*header, injected], [[*row, "'; select 1; --"] for row in parts[4]])
    )
    customers = landing / "customers" / DAY / "part-0000.csv"
    header, rows = rows_of(customers)
    named = [[row[0], HOSTILE_NAMES[i % len(HOSTILE_NAMES)], row[2]] for i, row in enumerate(rows)]
    customers.write_bytes(csv_bytes(header, named))

    (landing / "customers" / DAY / "part-0001.csv").write_bytes(
        "id,name,updated_at\nc-late,Renée,2018-09-02T10:00:00\n".encode("cp1252")
    )
    (orders / "part-0005.csv").write_bytes(os.urandom(2048).replace(b"\n", b"") + b"\n")
    (orders / "part-0006.csv").symlink_to(secret)
    (orders / "notes.txt").write_text("sent by hand")
    (landing / "orders" / "dt=2018-13-45").mkdir()
    future = landing / "orders" / "dt=2030-01-01" / "part-0000.csv"
    future.parent.mkdir()
    future.write_bytes((orders / "part-0001.CSV").read_bytes())
    return {
        f"customers/{DAY}/part-0001.csv": "quarantined",
        f"orders/{DAY}/part-0005.csv": "quarantined",
        f"orders/{DAY}/part-0006.csv": "reported",
        f"orders/{DAY}/notes.txt": "reported",
        "orders/dt=2018-13-45/": "reported",
        "orders/dt=2030-01-01/part-0000.csv": "held",
    }


@pytest.mark.parametrize("engine", ENGINES)
def test_bad_files_are_set_aside_and_every_good_row_publishes(
    engine: str, jafgen_cache: Path, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    alert_log = tmp_path / "alerts.jsonl"
    settings = settings_for(tmp_path, alert_command=f"cat >> {alert_log}")
    server = engine_server(request, engine)
    if server is not None:
        settings = server.new_database(settings)
    warehouse = Warehouse(settings)
    plan = DeliveryPlan.build(seed=5, days=2, cache_dir=jafgen_cache)
    plan.land(settings.landing_dir, only=FIRST)
    assert Runner(settings, progress="quiet").run().exit_code == ExitCode.OK
    plan.land(settings.landing_dir, only=SECOND)
    header, day_two_rows = rows_of(settings.landing_dir / "orders" / DAY / "part-0000.csv")
    # The source also deletes a few orders (rows marked `is_deleted`): those leave the marts.
    marker_at = header.index("is_deleted") if "is_deleted" in header else None
    deleted = {row[0] for row in day_two_rows if marker_at is not None and row[marker_at] == "true"}
    day_two_orders = [row for row in day_two_rows if row[0] not in deleted]
    marker = f"MARKER-{uuid.uuid4().hex}"
    secret = tmp_path / "secret.txt"
    secret.write_text(f"{marker}\n")
    bad = break_day_two(settings.landing_dir, secret)

    report = Runner(settings, progress="quiet").run()

    assert report.exit_code == ExitCode.OK, report.failure
    assert [w.start for w in report.windows] == [SECOND]
    published = {row[0] for row in warehouse.query("select order_id from analytics.fct_orders")}
    assert {row[0] for row in day_two_orders} <= published, "no good row is dropped"
    raw = warehouse.query("select * from raw.orders")
    assert marker not in repr(raw) and marker not in repr(published), "no other file is read"
    names = warehouse.query(
        "select customer_name from analytics.stg_jaffle__customers "
        f"where _source_file = 'customers/{DAY}/part-0000.csv'"
    )
    assert sorted(n for (n,) in names) == sorted(
        HOSTILE_NAMES[i % len(HOSTILE_NAMES)] for i in range(len(names))
    ), "hostile values arrive as delivered"

    accounting = {
        row[0]: row[1:]
        for row in warehouse.query(
            "select source_file, file_status, rows_delivered, rows_loaded, rows_quarantined "
            "from analytics.delivery_accounting"
        )
    }
    assert set(accounting) == every_file(settings.landing_dir) | {"orders/dt=2018-13-45/"}
    for path, status in bad.items():
        assert accounting[path][0] == status, path
    for path, (status, delivered, loaded, quarantined) in accounting.items():
        if status in ("loaded", "replaced", "quarantined"):
            assert delivered == loaded + quarantined, path
    assert accounting[f"customers/{DAY}/part-0001.csv"][1:] == (1, 0, 1)

    sent = alerts(alert_log)
    assert sorted(a.get("source_file") or a["path"] for a in sent) == sorted(bad)
    assert "MARKER" not in alert_log.read_text(), "the link's target is never read"
    ledger = sqlite3.connect(settings.ledger_path)
    assert {state for (state,) in ledger.execute("select state from runs")} == {"succeeded"}

    again = Runner(settings, progress="quiet").run()
    assert again.exit_code == ExitCode.OK and again.windows == []
    assert len(alerts(alert_log)) == len(sent), "each bad file is alerted on once"

    # The source re-sends the customers file fixed; it takes over from the quarantine.
    fixed = settings.landing_dir / "customers" / DAY / "part-0001.csv"
    fixed.write_text("id,name,updated_at\nc-late,Renée,2018-09-02T10:00:00\n")
    healed = Runner(settings, progress="quiet").run()
    assert healed.exit_code == ExitCode.OK, healed.failure
    assert warehouse.query(
        "select customer_name from analytics.stg_jaffle__customers where customer_id = 'c-late'"
    ) == [("Renée",)]
    status = warehouse.query(
        "select file_status, rows_loaded from analytics.delivery_accounting "
        f"where source_file = 'customers/{DAY}/part-0001.csv'"
    )
    assert status == [("replaced", 1)]
    released = [
        r for r in releases(settings) if r["source_file"] == f"customers/{DAY}/part-0001.csv"
    ]
    assert [(r["run_id"], r["rows"]) for r in released] == [(healed.run_id, 1)], (
        "the re-send released the row its first version had held back"
    )

    # A broken re-send of a file that had loaded: quarantined, and its earlier rows stay.
    resent = settings.landing_dir / "orders" / DAY / "part-0001.CSV"
    before = warehouse.checksum("analytics.fct_orders", ("_invocation_id", "_loaded_at"))
    resent.write_bytes(resent.read_bytes()[:-1])  # cut short: no final line end
    broken = Runner(settings, progress="quiet").run()
    assert broken.exit_code == ExitCode.OK, broken.failure
    assert [f.source_file for f in broken.windows[0].quarantined] == [f"orders/{DAY}/part-0001.CSV"]
    assert warehouse.checksum("analytics.fct_orders", ("_invocation_id", "_loaded_at")) == before
    (kept,) = warehouse.query(
        "select file_status, file_message, rows_delivered, rows_loaded, rows_quarantined "
        f"from analytics.delivery_accounting where source_file = 'orders/{DAY}/part-0001.CSV'"
    )
    assert kept[0] == "loaded" and "truncated" in kept[1] and "stays loaded" in kept[1]
    assert kept[2] == kept[3] + kept[4] > 0
    assert alerts(alert_log)[-1]["source_file"] == f"orders/{DAY}/part-0001.CSV"


def test_a_source_that_must_be_complete_halts_on_a_bad_file(
    jafgen_cache: Path, tmp_path: Path
) -> None:
    project = copy_project(tmp_path)
    sources = project / "models" / "staging" / "jaffle" / "_jaffle__sources.yml"
    sources.write_text(sources.read_text().replace("on_bad_file: quarantine", "on_bad_file: halt"))
    settings = settings_for(tmp_path, project_dir=project)
    plan = DeliveryPlan.build(seed=5, days=2, cache_dir=jafgen_cache)
    plan.land(settings.landing_dir, through=SECOND)
    bad = settings.landing_dir / "orders" / DAY / "part-0001.csv"
    bad.write_bytes("id,customer\n1,Renée\n".encode("cp1252"))

    report = Runner(settings, progress="quiet").run()

    assert report.exit_code == ExitCode.BAD_INPUT, report.failure
    assert "on_bad_file: halt" in report.failure and "not UTF-8" in report.failure
    assert [w.start for w in report.windows] == [FIRST, SECOND], "day one published first"


def test_any_failure_is_one_line_recorded_failed_and_alerted(
    jafgen_cache: Path, tmp_path: Path
) -> None:
    """Whatever stops a run (here: a source YAML with an unknown on_bad_file, bad input naming
    the file and the source), the ledger says failed, the hook hears of it, the command prints
    one line and no traceback; delivered names are printed literally, not as markup."""
    project = copy_project(tmp_path)
    alert_log = tmp_path / "alerts.jsonl"
    settings = settings_for(tmp_path, project_dir=project, alert_command=f"cat >> {alert_log}")
    DeliveryPlan.build(seed=5, days=1, cache_dir=jafgen_cache).land(settings.landing_dir)
    stray = settings.landing_dir / "orders" / "[bold]stray.txt"
    stray.write_text("not a delivery")
    (settings.landing_dir / "orders" / "dt=2018-13-45").mkdir()
    sources = project / "models" / "staging" / "jaffle" / "_jaffle__sources.yml"
    sources.write_text(sources.read_text().replace("on_bad_file: quarantine", "on_bad_file: skip"))

    failed = durable(settings, "run")

    assert failed.returncode == ExitCode.BAD_INPUT, failed.stderr
    assert "Traceback" not in failed.stderr and len(failed.stderr.strip().splitlines()) == 1
    assert "on_bad_file is 'skip'" in failed.stderr and "_jaffle__sources.yml" in failed.stderr
    (run,) = sqlite3.connect(settings.ledger_path).execute("select state, failure from runs")
    assert run[0] == "failed" and "on_bad_file" in run[1]
    (alert,) = alerts(alert_log)
    assert alert["event"] == "run_failed" and "on_bad_file" in alert["failure"]

    sources.write_text(sources.read_text().replace("on_bad_file: skip", "on_bad_file: quarantine"))
    published = durable(settings, "run")
    assert published.returncode == ExitCode.OK, published.stderr
    assert "orders/[bold]stray.txt: not in a partition" in published.stderr
    status = durable(settings, "status")
    assert status.returncode == 0, status.stderr
    assert "due: nothing" in status.stdout
    assert "2 reported" in status.stdout and "[bold]stray.txt" in status.stdout
