"""Bad input, class by class: every delivered row is loaded or quarantined with a reason.

Row-level faults (malformed values, missing keys, conflicting duplicates, impossible values,
orphans, empty and missing deliveries) are injected into one week of deliveries processed day by
day; file-level faults (corrupt, mis-encoded files, schema drift) each hit one delivery of a
published warehouse: the runner quarantines the file, publishes the rest and counts its rows.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import pytest

from checks import AUDIT_COLUMNS, MARTS
from conftest import Warehouse, copy_published, make_warehouse, settings_under
from durable.config import Settings
from durable.errors import ExitCode
from durable.pipeline import process_window
from durable.runner import Runner
from jaffle_simulator import DeliveryPlan, Fault, FaultKind, Faults, InjectedFault
from jaffle_simulator.layout import render

pytestmark = pytest.mark.slow
DAY = [date(2018, 9, 1) + timedelta(days=i) for i in range(8)]
ROW_FAULTS = Faults(
    (
        Fault(FaultKind.MALFORMED_AMOUNT, "orders", on=DAY[1]),
        Fault(FaultKind.MALFORMED_TIMESTAMP, "orders", on=DAY[2], column="ordered_at"),
        Fault(FaultKind.MALFORMED_BOOLEAN, "supplies", on=DAY[0]),
        Fault(FaultKind.MISSING_KEY, "customers", on=DAY[1]),
        Fault(FaultKind.CONFLICTING_DUPLICATE, "orders", on=DAY[3]),
        Fault(FaultKind.NEGATIVE_VALUE, "orders", on=DAY[4]),
        Fault(FaultKind.FUTURE_DATE, "items", on=DAY[2]),
        Fault(FaultKind.PAST_DATE, "customers", on=DAY[2]),
        Fault(FaultKind.ORPHAN_ITEMS, "items", on=DAY[1], lag_days=5),
        Fault(FaultKind.EMPTY_DELIVERY, "customers", on=DAY[3]),
        Fault(FaultKind.MISSING_DELIVERY, "orders", on=DAY[5]),
    )
)


@dataclass
class FaultyWeek:
    warehouse: Warehouse
    plan: DeliveryPlan
    held_after: dict[date, int] = field(default_factory=dict)
    warnings_on: dict[date, list[str]] = field(default_factory=dict)

    def injected(self, kind: FaultKind) -> list[InjectedFault]:
        found = [f for f in self.plan.faults if f.kind == kind]
        assert found, f"the simulator injected no {kind}"
        return found

    def quarantined(self, fault: InjectedFault) -> list[tuple[str, str]]:
        return self.warehouse.query(
            f"""select quarantine_status, reason from analytics.quarantined_rows
            where _source_file = '{fault.file}' and _row_number = {fault.row}"""
        )


@pytest.fixture(scope="module")
def week(jafgen_cache: Path, tmp_path_factory: pytest.TempPathFactory) -> FaultyWeek:
    plan = DeliveryPlan.build(seed=5, days=7, faults=ROW_FAULTS, cache_dir=jafgen_cache)
    run = FaultyWeek(make_warehouse(tmp_path_factory.mktemp("faulty-week")), plan)
    for day in plan.delivery_dates:
        plan.land(run.warehouse.landing, only=day)
        result = run.warehouse.run(day, day)
        run.held_after[day] = run.warehouse.query(
            "select count(*) from analytics.quarantined_rows where quarantine_status = 'held'"
        )[0][0]
        run.warnings_on[day] = [n.unique_id for n in result.build.with_status("warn")]
    return run


def assert_accounted(warehouse: Warehouse) -> None:
    unbalanced = warehouse.query(
        """select source_file, rows_delivered, rows_loaded, rows_quarantined
        from analytics.delivery_accounting
        where file_status in ('loaded', 'replaced', 'quarantined')
            and rows_delivered <> rows_loaded + rows_quarantined"""
    )
    assert unbalanced == []
    files, delivered = warehouse.query(
        "select count(*), sum(rows_delivered) from analytics.delivery_accounting"
    )[0]
    landed = list(warehouse.landing.glob("*/dt=*/*.csv"))
    assert files == len(landed)
    assert delivered == sum(len(p.read_bytes().splitlines()) - 1 for p in landed)


@pytest.mark.parametrize(
    ("kind", "reason"),
    [
        (FaultKind.MALFORMED_AMOUNT, "malformed bigint: subtotal"),
        (FaultKind.MALFORMED_TIMESTAMP, "malformed timestamp: ordered_at"),
        (FaultKind.MALFORMED_BOOLEAN, "malformed boolean: perishable"),
    ],
)
def test_1_malformed_values_are_quarantined_and_the_rest_loads(
    week: FaultyWeek, kind: FaultKind, reason: str
) -> None:
    for fault in week.injected(kind):
        assert week.quarantined(fault) == [("rejected", reason)]
        # Good rows of the same delivery go on.
        loaded = week.warehouse.query(
            f"""select rows_loaded from analytics.delivery_accounting
            where source_file = '{fault.file}'"""
        )[0][0]
        assert loaded > 0
    assert_accounted(week.warehouse)


def test_2_missing_key_is_quarantined(week: FaultyWeek) -> None:
    for fault in week.injected(FaultKind.MISSING_KEY):
        assert week.quarantined(fault) == [("rejected", "missing key: id")]
    assert week.warehouse.query(
        "select count(*) from analytics.dim_customers where customer_id is null or customer_id = ''"
    ) == [(0,)]
    assert_accounted(week.warehouse)


def test_3_conflicting_duplicates_are_both_quarantined(week: FaultyWeek) -> None:
    (fault,) = week.injected(FaultKind.CONFLICTING_DUPLICATE)
    rows = week.warehouse.query(
        f"""select _row_number, reason from analytics.quarantined_rows
        where _source_file = '{fault.file}' and reason like 'conflicting duplicate%'"""
    )
    assert len(rows) == 2, "both versions are quarantined: neither can be trusted"
    assert fault.row in {row for row, _ in rows}
    assert_accounted(week.warehouse)


@pytest.mark.parametrize(
    ("kind", "reason"),
    [
        (FaultKind.NEGATIVE_VALUE, "impossible value: subtotal below 0"),
        (
            FaultKind.FUTURE_DATE,
            "impossible value: updated_at before earliest_event_date or in the future",
        ),
        (
            FaultKind.PAST_DATE,
            "impossible value: updated_at before earliest_event_date or in the future",
        ),
    ],
)
def test_4_impossible_values_are_quarantined(
    week: FaultyWeek, kind: FaultKind, reason: str
) -> None:
    for fault in week.injected(kind):
        assert week.quarantined(fault) == [("rejected", reason)]
    assert_accounted(week.warehouse)


def test_5_orphans_are_held_then_released_when_their_order_lands(week: FaultyWeek) -> None:
    faults = week.injected(FaultKind.ORPHAN_ITEMS)
    assert week.held_after[DAY[1]] > 0, "items without their order are held in quarantine"
    assert week.held_after[DAY[6]] == 0, "all released once the orders landed (5 days later)"
    for fault in faults:
        item = week.warehouse.query(
            f"""select id from raw.items
            where _source_file = '{fault.file}' and _row_number = {fault.row}"""
        )[0][0]
        assert week.warehouse.query(
            f"select count(*) from analytics.fct_order_items where order_item_id = '{item}'"
        ) == [(1,)], "a released item is in the mart, though its order came past the lookback"
    assert_accounted(week.warehouse)


def test_6_empty_delivery_is_fine_and_a_missing_one_is_reported(week: FaultyWeek) -> None:
    (empty,) = week.injected(FaultKind.EMPTY_DELIVERY)
    assert week.warehouse.query(
        f"""select file_status, rows_delivered from analytics.delivery_accounting
        where source_file = '{empty.file}'"""
    ) == [("loaded", 0)]
    (missing,) = week.injected(FaultKind.MISSING_DELIVERY)
    assert not (week.warehouse.landing / missing.file).exists()
    warned = week.warnings_on[missing.delivery_date]
    assert any("recency" in node and "orders" in node for node in warned), warned
    assert not any("recency" in node for node in week.warnings_on[DAY[2]])
    assert_accounted(week.warehouse)


# --- file-level faults: the runner quarantines the file and publishes the rest --------------


@pytest.fixture(scope="module")
def published_day_one(jafgen_cache: Path, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    root = tmp_path_factory.mktemp("published")
    settings = settings_under(root, retry_wait=0.1)
    DeliveryPlan.build(seed=5, days=2, cache_dir=jafgen_cache).land(
        settings.landing_dir, only=DAY[0]
    )
    assert Runner(settings, progress="quiet").run().exit_code == ExitCode.OK
    return settings


def run_with_fault(
    published: Settings, tmp_path: Path, fault: Fault, jafgen_cache: Path
) -> tuple[object, Settings, DeliveryPlan]:
    settings = copy_published(published, tmp_path)
    plan = DeliveryPlan.build(seed=5, days=2, faults=Faults((fault,)), cache_dir=jafgen_cache)
    plan.land(settings.landing_dir, only=DAY[1])
    return Runner(settings, progress="quiet").run(), settings, plan


@pytest.mark.parametrize(
    ("kind", "problem"),
    [
        (FaultKind.TRUNCATED_FILE, "truncated"),
        (FaultKind.LATIN1_FILE, "not UTF-8"),
        (FaultKind.BOM_FILE, "byte-order mark"),
        (FaultKind.COLUMN_DROPPED, "column dropped: tax_paid"),
        (FaultKind.COLUMN_RENAMED, "column renamed: subtotal -> sub_total"),
        (FaultKind.COLUMN_RETYPED_TEXT, "column retyped: subtotal"),
        (FaultKind.COLUMN_RETYPED_DECIMAL, "column retyped: subtotal"),
    ],
)
def test_7_8_bad_files_are_quarantined_and_the_rest_publishes(
    published_day_one: Settings, tmp_path: Path, jafgen_cache: Path, kind: FaultKind, problem: str
) -> None:
    report, settings, plan = run_with_fault(
        published_day_one, tmp_path, Fault(kind, "orders", on=DAY[1]), jafgen_cache
    )
    (fault,) = plan.faults
    assert report.exit_code == ExitCode.OK, report.failure
    (window,) = report.windows
    assert [f.source_file for f in window.quarantined] == [fault.file]
    assert problem in window.quarantined[0].message
    assert window.attempts == 1, "a quarantined delivery is never retried"
    warehouse = Warehouse(settings)
    status, message, delivered, loaded, quarantined = warehouse.query(
        f"""select file_status, file_message, rows_delivered, rows_loaded, rows_quarantined
        from analytics.delivery_accounting where source_file = '{fault.file}'"""
    )[0]
    assert (status, loaded, quarantined) == ("quarantined", 0, delivered)
    assert problem in message
    assert warehouse.query(
        f"select count(*) from raw.orders where _source_file = '{fault.file}'"
    ) == [(0,)]
    published_items = warehouse.query(
        f"select count(*) from raw.items where _delivery_date = '{DAY[1]}'"
    )[0][0]
    assert published_items > 0, "the day's other files published"
    assert_accounted(warehouse)


def test_8_an_added_column_is_accepted_and_reported(
    published_day_one: Settings, tmp_path: Path, jafgen_cache: Path
) -> None:
    report, settings, plan = run_with_fault(
        published_day_one,
        tmp_path,
        Fault(FaultKind.COLUMN_ADDED, "orders", on=DAY[1]),
        jafgen_cache,
    )
    assert report.exit_code == ExitCode.OK, report.failure
    (fault,) = plan.faults
    warehouse = Warehouse(settings)
    message, loaded, delivered = warehouse.query(
        f"""select file_message, rows_loaded, rows_delivered from analytics.delivery_accounting
        where source_file = '{fault.file}'"""
    )[0]
    assert "column added: channel" in message
    assert loaded == delivered > 0
    assert_accounted(warehouse)


# --- everything at once ---------------------------------------------------------------------

ROW_KINDS = [  # class 1 (malformed booleans: supplies deliver once, tested above), 2 to 6, 8
    FaultKind.MALFORMED_AMOUNT,
    FaultKind.MALFORMED_TIMESTAMP,
    FaultKind.MISSING_KEY,
    FaultKind.CONFLICTING_DUPLICATE,
    FaultKind.NEGATIVE_VALUE,
    FaultKind.FUTURE_DATE,
    FaultKind.PAST_DATE,
    FaultKind.ORPHAN_ITEMS,
    FaultKind.EMPTY_DELIVERY,
    FaultKind.MISSING_DELIVERY,
    FaultKind.COLUMN_ADDED,
]
FILE_KINDS = [
    FaultKind.TRUNCATED_FILE,
    FaultKind.LATIN1_FILE,
    FaultKind.BOM_FILE,
    FaultKind.COLUMN_DROPPED,
    FaultKind.COLUMN_RENAMED,
    FaultKind.COLUMN_RETYPED_TEXT,
]


def random_faults(clean: DeliveryPlan, seed: int) -> Faults:
    """Every class once, on a random delivery that exists; file-level ones on distinct files."""
    rng = random.Random(seed)
    used: set[tuple[str, date]] = set()
    specs = []
    for kind in ROW_KINDS + FILE_KINDS:
        entities = {
            FaultKind.ORPHAN_ITEMS: ["items"],
            FaultKind.MALFORMED_AMOUNT: ["orders"],
            FaultKind.NEGATIVE_VALUE: ["orders"],
            FaultKind.COLUMN_RETYPED_TEXT: ["orders"],
        }.get(kind, ["orders", "items", "customers"])
        choices = [
            key
            for key, spec in clean.files.items()
            if key[0] in entities
            and spec.rows
            and clean.delivery_dates[1] <= key[1] <= clean.delivery_dates[-7]
            and key not in used
        ]
        entity, day = rng.choice(sorted(choices))
        if kind in FILE_KINDS or kind in (FaultKind.EMPTY_DELIVERY, FaultKind.MISSING_DELIVERY):
            used.add((entity, day))
        specs.append(Fault(kind, entity, on=day, lag_days=rng.randint(1, 5)))
    return Faults(tuple(specs))


def test_randomized_month_accounts_for_every_row_and_equals_a_full_refresh(
    jafgen_cache: Path, tmp_path: Path
) -> None:
    days = 30
    fixed = DeliveryPlan.build(seed=9, days=days, cache_dir=jafgen_cache)  # the source's re-sends
    faulty = DeliveryPlan.build(
        seed=9, days=days, faults=random_faults(fixed, seed=9), cache_dir=jafgen_cache
    )
    assert {f.kind for f in faulty.faults} == set(ROW_KINDS + FILE_KINDS), "every class injected"
    incremental = make_warehouse(tmp_path / "incremental")
    rejected_seen = 0
    for first in range(0, days, 5):
        start, end = faulty.delivery_dates[first], faulty.delivery_dates[min(first + 4, days - 1)]
        for offset in range((end - start).days + 1):
            faulty.land(incremental.landing, only=start + timedelta(days=offset))
        result = process_window(incremental.settings, start, end, quiet=True)
        if result.load.quarantined:
            # A bad file is set aside; the source re-delivers it fixed, the window runs again.
            rejected_seen += len(result.load.quarantined)
            for bad in result.load.quarantined:
                spec = fixed.files[(bad.entity, bad.delivery_date)]
                (incremental.landing / bad.source_file).write_bytes(render(spec, fixed.scale))
            result = incremental.run(start, end)
        assert result.build.success, [n.unique_id for n in result.build.failures()]
    assert rejected_seen == len({f.file for f in faulty.faults if f.kind in FILE_KINDS})
    assert_accounted(incremental)

    rebuilt = make_warehouse(tmp_path / "rebuilt", landing=incremental.landing)
    rebuilt.run(None, None, full_refresh=True)
    for mart in MARTS:
        assert incremental.checksum(f"analytics.{mart}", AUDIT_COLUMNS) == rebuilt.checksum(
            f"analytics.{mart}", AUDIT_COLUMNS
        ), mart
    quarantined = incremental.query("select count(distinct reason) from analytics.quarantined_rows")
    assert quarantined[0][0] >= 6, "the month mixed many classes of bad rows"
