"""Fast tests of the delivery simulator: determinism, the landing contract, the mess, the faults."""

from __future__ import annotations

import csv
import io
import uuid
from collections import Counter
from dataclasses import asdict
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from conftest import PROJECT_DIR
from durable.landing.zone import scan_landing_zone
from durable.sources import load_source_tables
from jaffle_simulator import (
    COLUMNS,
    KEYS,
    DeliveryPlan,
    Fault,
    FaultKind,
    Faults,
    Rates,
    layout,
    source,
)

DAYS = 12
START = date(2018, 9, 1)
LAST = START + timedelta(days=DAYS - 1)
# Mess rates raised so that a 12-day run shows every kind of mess.
RATES = Rates(malformed_orders=0.03, customer_renamed=0.2, duplicate_in_file=0.05, resent=0.03)


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One jafgen run per module: the plans below all reuse its cache entry."""
    directory = tmp_path_factory.mktemp("jafgen")
    source.generate(42, DAYS, directory)
    return directory


@pytest.fixture(scope="module")
def plan(cache: Path) -> DeliveryPlan:
    return DeliveryPlan.build(seed=42, days=DAYS, cache_dir=cache, rates=RATES)


@pytest.fixture(scope="module")
def landed(plan: DeliveryPlan, tmp_path_factory: pytest.TempPathFactory) -> Path:
    landing = tmp_path_factory.mktemp("landing")
    plan.land(landing)
    return landing


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*.csv"))}


def _read(path: Path) -> tuple[list[str], list[tuple[str, ...]]]:
    reader = csv.reader(io.StringIO(path.read_text(encoding="utf-8"), newline=""))
    header, *rows = list(reader)
    return header, [tuple(row) for row in rows]


def _files(landing: Path, entity: str) -> dict[date, list[tuple[str, ...]]]:
    """Each day's rows in the declared columns; the deletes (and the optional marker) left out."""
    out = {}
    for path in sorted((landing / entity).glob("dt=*/part-0000.csv")):
        header, rows = _read(path)
        if layout.DELETE_MARKER in header:
            marker = header.index(layout.DELETE_MARKER)
            rows = [row[:marker] + row[marker + 1 :] for row in rows if row[marker] != "true"]
        out[date.fromisoformat(path.parent.name[3:])] = rows
    return out


def _is_malformed(row: tuple[str, ...]) -> bool:
    try:
        int(row[4])
        datetime.fromisoformat(row[2])
    except ValueError:
        return True
    return False


def test_same_seed_same_bytes_other_seed_differs(
    plan: DeliveryPlan, landed: Path, cache: Path, tmp_path: Path
) -> None:
    DeliveryPlan.build(seed=42, days=DAYS, cache_dir=cache, rates=RATES).land(tmp_path / "a")
    assert _tree(tmp_path / "a") == _tree(landed)
    DeliveryPlan.build(seed=7, days=DAYS, cache_dir=tmp_path / "cache").land(tmp_path / "b")
    assert _tree(tmp_path / "b") != _tree(landed)


def test_layout_and_headers(plan: DeliveryPlan, landed: Path) -> None:
    tree = _tree(landed)
    assert set(tree) == {f"{e}/dt={d.isoformat()}/part-0000.csv" for e, d in plan.files}
    deletes = 0
    for name, data in tree.items():
        entity = name.split("/")[0]
        header, *lines = data.decode("utf-8").splitlines()
        columns = list(COLUMNS[entity])
        if layout.DELETE_MARKER in header.split(","):
            # Only a file holding a delete carries the optional marker, before updated_at.
            columns.insert(len(columns) - 1, layout.DELETE_MARKER)
            marked = [line for line in lines if line.split(",")[-2] == "true"]
            assert marked and entity in layout.DELETABLE
            deletes += len(marked)
        assert header == ",".join(columns)
        assert data.endswith(b"\n") and b"\r" not in data
    assert deletes == sum(stats.deleted for stats in plan.stats.values()) > 0
    assert (landed / "products/dt=2018-09-01/part-0000.csv").exists()
    assert plan.delivery_dates == [START + timedelta(days=i) for i in range(DAYS)]


def test_the_project_declares_what_the_simulator_delivers(plan: DeliveryPlan, landed: Path) -> None:
    """The source YAML is the contract the runner loads by: the simulator must keep to it."""
    tables = load_source_tables(PROJECT_DIR)
    # The delete marker is an optional column: only files holding a delete carry it.
    assert {t.name: tuple(c for c in t.columns if c != t.delete_marker) for t in tables} == COLUMNS
    assert {t.name for t in tables if t.delete_marker == layout.DELETE_MARKER} == set(
        layout.DELETABLE
    )
    assert {t.name: t.primary_key for t in tables} == KEYS
    scan = scan_landing_zone(landed, tables, today=LAST)
    assert scan.findings == []
    assert {(f.entity, f.delivery_date) for f in scan.deliveries} == set(plan.files)


def test_no_row_is_more_than_three_days_late(landed: Path) -> None:
    lateness = Counter()
    for entity in COLUMNS:
        for day, rows in _files(landed, entity).items():
            for row in rows:
                lateness[(day - datetime.fromisoformat(row[-1]).date()).days] += 1
    assert set(lateness) <= {0, 1, 2, 3}
    assert lateness[1] and lateness[3]


def test_stats_match_what_was_delivered(plan: DeliveryPlan, landed: Path) -> None:
    """Recount every mess counter from the CSVs alone."""
    totals = Counter()
    for entity in COLUMNS:
        files = _files(landed, entity)
        seen_names: dict[str, str] = {}
        for day, rows in files.items():
            stats = plan.stats[(entity, day)]
            previous = set(files.get(day - timedelta(days=1), []))
            unique = set(rows)
            resent = unique & previous
            late = {
                r
                for r in unique - resent
                if day > datetime.fromisoformat(r[-1]).date()
                and not (entity == "orders" and _is_malformed(r))
            }
            malformed = [r for r in rows if entity == "orders" and _is_malformed(r)]
            assert stats.rows == len(rows) + stats.deleted
            assert stats.duplicates_in_file == len(rows) - len(unique)
            assert stats.resent == len(resent)
            assert stats.late == len(late)
            assert stats.malformed == len(malformed)
            for kind in ("duplicates_in_file", "resent", "late", "malformed", "corrections"):
                totals[(entity, kind)] += getattr(stats, kind)
            if entity == "customers":
                for r in sorted(unique - resent, key=lambda r: r[-1]):
                    renamed = r[0] in seen_names and seen_names[r[0]] != r[1]
                    totals["renames seen"] += renamed
                    seen_names[r[0]] = r[1]
    assert totals["renames seen"] == totals[("customers", "corrections")] > 0
    for kind in ("duplicates_in_file", "resent", "late", "malformed"):
        assert totals[("orders", kind)] > 0, kind
    assert totals[("products", "corrections")] > 0


def test_malformed_rows_are_fixed_next_day(landed: Path) -> None:
    files = _files(landed, "orders")
    broken = [(day, row) for day, rows in files.items() for row in rows if _is_malformed(row)]
    assert broken
    for day, row in broken:
        fixed = [r for r in files[day + timedelta(days=1)] if r[0] == row[0] and r[-1] == row[-1]]
        assert fixed and not _is_malformed(fixed[0])


def test_every_order_and_item_is_delivered(plan: DeliveryPlan, landed: Path, cache: Path) -> None:
    raw = source.load(42, DAYS, cache)
    orders = {r for rows in _files(landed, "orders").values() for r in rows if not _is_malformed(r)}
    delivered = {r[:7] for r in orders}
    placed = {r[:7]: r for r in orders if r[7] == "placed"}
    items = {r[:3] for rows in _files(landed, "items").values() for r in rows}
    # Versions due after the last day are not delivered; earlier ones all are.
    complete_through = LAST - timedelta(days=3)
    due = {o["id"] for o in raw["orders"] if o["ordered_at"][:10] <= complete_through.isoformat()}
    for order in raw["orders"]:
        if order["id"] in due:
            assert tuple(order.values()) in delivered
    assert placed  # CDC by day: placed versions exist, but not for orders shipped the same day
    for item in raw["items"]:
        assert tuple(item.values()) in items or item["order_id"] not in due
    customers = {r[0] for rows in _files(landed, "customers").values() for r in rows}
    assert {o[1] for o in delivered} - customers <= set()


def test_order_lifecycle(landed: Path) -> None:
    versions: dict[str, list[tuple[str, str]]] = {}
    for rows in _files(landed, "orders").values():
        for r in rows:
            versions.setdefault(r[0], []).append((r[-1], r[7]))
    order = ("placed", "shipped", "completed", "returned")
    for history in versions.values():
        statuses = [s for _, s in sorted(set(history))]
        assert statuses == sorted(statuses, key=order.index)
        assert statuses.count("completed") <= 1


def test_land_is_idempotent_and_respects_through(plan: DeliveryPlan, tmp_path: Path) -> None:
    first = plan.land(tmp_path, through=START + timedelta(days=2))
    assert first and all(p.parent.name <= "dt=2018-09-03" for p in first)
    mtimes = {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*.csv")}
    assert plan.land(tmp_path, through=START + timedelta(days=2)) == []
    assert {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*.csv")} == mtimes
    only = plan.land(tmp_path, only=START + timedelta(days=5))
    assert only and all(p.parent.name == "dt=2018-09-06" for p in only)
    assert not list(tmp_path.rglob("*.tmp"))


def test_manifest(plan: DeliveryPlan, tmp_path: Path) -> None:
    plan.write_manifest(tmp_path / "manifest.json")
    text = (tmp_path / "manifest.json").read_text()
    assert '"files"' in text and '"faults": []' in text


def test_scale_replicates_with_derived_ids(cache: Path, tmp_path: Path) -> None:
    scaled = DeliveryPlan.build(seed=42, days=DAYS, cache_dir=cache, scale=3)
    base = DeliveryPlan.build(seed=42, days=DAYS, cache_dir=cache)
    key = ("items", START + timedelta(days=1))
    assert scaled.stats[key].rows == 3 * base.stats[key].rows
    scaled.land(tmp_path, only=key[1])
    rows = _read(tmp_path / "items/dt=2018-09-02/part-0000.csv")[1]
    assert len({r[0] for r in rows}) == len(rows) - scaled.stats[key].duplicates_in_file


def test_replica_id_is_uuid5() -> None:
    for original in ("a", "6af7b3ef-7cdb-4982-b321-7cc551d9244c", ""):
        for copy in (1, 2, 999):
            expected = uuid.uuid5(layout.REPLICA_NAMESPACE, f"{original}#{copy}")
            assert layout.replica_id(original, copy) == str(expected)


def _faulted(cache: Path, tmp_path: Path, *faults: Fault) -> tuple[DeliveryPlan, Path]:
    plan = DeliveryPlan.build(seed=42, days=DAYS, cache_dir=cache, faults=Faults(faults))
    plan.land(tmp_path)
    return plan, tmp_path


DAY3 = START + timedelta(days=2)


@pytest.mark.parametrize(
    ("kind", "entity", "check"),
    [
        (FaultKind.MALFORMED_AMOUNT, "orders", lambda v: not v.isdigit()),
        (FaultKind.MALFORMED_TIMESTAMP, "orders", lambda v: "-13-45" in v),
        (FaultKind.MALFORMED_BOOLEAN, "supplies", lambda v: v not in ("True", "False")),
        (FaultKind.MISSING_KEY, "customers", lambda v: v == ""),
        (FaultKind.NEGATIVE_VALUE, "orders", lambda v: int(v) < 0),
        (FaultKind.FUTURE_DATE, "orders", lambda v: v.startswith("2099-")),
        (FaultKind.PAST_DATE, "items", lambda v: v < "2018-09-01"),
    ],
)
def test_row_value_faults(cache: Path, tmp_path: Path, kind: FaultKind, entity: str, check) -> None:
    on = START if entity == "supplies" else DAY3
    plan, landing = _faulted(cache, tmp_path, Fault(kind, entity=entity, on=on, rows=2))
    assert len(plan.faults) == 2
    for fault in plan.faults:
        assert (fault.kind, fault.entity, fault.delivery_date) == (kind, entity, on)
        header, rows = _read(landing / fault.file)
        assert check(rows[fault.row - 1][header.index(fault.column)])
    others = [r for r in rows if r is not rows[plan.faults[0].row - 1]]
    assert any(not check(r[header.index(fault.column)]) for r in others)


def test_no_fix_for_faults(cache: Path, tmp_path: Path) -> None:
    """A fault is not healed: the broken row version is never re-sent correctly."""
    plan, landing = _faulted(cache, tmp_path, Fault(FaultKind.MALFORMED_AMOUNT, on=DAY3))
    (fault,) = plan.faults
    broken = _read(landing / fault.file)[1][fault.row - 1]
    versions = [r for rows in _files(landing, "orders").values() for r in rows]
    assert [r for r in versions if (r[0], r[-1]) == (broken[0], broken[-1])] == [broken]
    # ...and faults do not count as mess in the stats.
    clean = DeliveryPlan.build(seed=42, days=DAYS, cache_dir=cache)
    assert plan.stats[(fault.entity, fault.delivery_date)] == clean.stats[("orders", DAY3)]


def test_conflicting_duplicate(cache: Path, tmp_path: Path) -> None:
    plan, landing = _faulted(cache, tmp_path, Fault(FaultKind.CONFLICTING_DUPLICATE, on=DAY3))
    (fault,) = plan.faults
    _, rows = _read(landing / fault.file)
    copy, original = rows[fault.row - 1], rows[fault.row - 2]
    assert copy[0] == original[0] and copy[-1] == original[-1] and copy != original


def test_orphan_items(cache: Path, tmp_path: Path) -> None:
    fault = Fault(FaultKind.ORPHAN_ITEMS, on=DAY3, lag_days=2)
    plan, landing = _faulted(cache, tmp_path, fault)
    assert plan.faults
    order_id = _read(landing / plan.faults[0].file)[1][plan.faults[0].row - 1][1]
    arrivals = {
        d for d, rows in _files(landing, "orders").items() for r in rows if r[0] == order_id
    }
    assert min(arrivals) == DAY3 + timedelta(days=2)


def test_empty_and_missing_delivery(cache: Path, tmp_path: Path) -> None:
    plan, landing = _faulted(
        cache,
        tmp_path,
        Fault(FaultKind.EMPTY_DELIVERY, entity="orders", on=DAY3),
        Fault(FaultKind.MISSING_DELIVERY, entity="items", on=DAY3),
    )
    empty, missing = plan.faults
    assert (landing / empty.file).read_text() == ",".join(COLUMNS["orders"]) + "\n"
    assert not (landing / missing.file).exists() and missing.row is None


def test_file_faults(cache: Path, tmp_path: Path) -> None:
    plan, landing = _faulted(
        cache,
        tmp_path,
        Fault(FaultKind.TRUNCATED_FILE, entity="orders", on=DAY3),
        Fault(FaultKind.LATIN1_FILE, entity="customers", on=DAY3),
        Fault(FaultKind.BOM_FILE, entity="items", on=DAY3),
    )
    truncated, latin1, bom = plan.faults
    data = (landing / truncated.file).read_bytes()
    assert not data.endswith(b"\n") and data.count(b"\n") == truncated.row
    with pytest.raises(UnicodeDecodeError):
        (landing / latin1.file).read_bytes().decode("utf-8")
    assert "é" in (landing / latin1.file).read_bytes().decode("latin-1")
    assert (landing / bom.file).read_bytes().startswith(b"\xef\xbb\xbf")


@pytest.mark.parametrize(
    ("kind", "expect"),
    [
        (FaultKind.COLUMN_ADDED, lambda h, r: h[-1] == "channel" and len(r) == len(h)),
        (FaultKind.COLUMN_DROPPED, lambda h, r: "tax_paid" not in h and len(r) == len(h)),
        (FaultKind.COLUMN_RENAMED, lambda h, r: "sub_total" in h and "subtotal" not in h),
        (FaultKind.COLUMN_RETYPED_TEXT, lambda h, r: r[4].endswith(" USD")),
        (FaultKind.COLUMN_RETYPED_DECIMAL, lambda h, r: "." in r[4]),
    ],
)
def test_schema_drift(cache: Path, tmp_path: Path, kind: FaultKind, expect) -> None:
    plan, landing = _faulted(cache, tmp_path, Fault(kind, on=DAY3, through=DAY3 + timedelta(1)))
    assert [f.delivery_date for f in plan.faults] == [DAY3, DAY3 + timedelta(1)]
    header, rows = _read(landing / plan.faults[0].file)
    assert all(expect(header, row) for row in rows)
    assert _read(landing / "orders/dt=2018-09-02/part-0000.csv")[0] == list(COLUMNS["orders"])


def test_rate_based_faults_and_manifest(cache: Path, tmp_path: Path) -> None:
    fault = Fault(FaultKind.MISSING_KEY, entity="items", on=DAY3, through=LAST, rate=0.05)
    plan, _ = _faulted(cache, tmp_path, fault)
    assert len(plan.faults) > 3
    assert len({f.delivery_date for f in plan.faults}) > 1
    plan.write_manifest(tmp_path / "m.json")
    assert asdict(plan.faults[0])["kind"] == "missing_key"
