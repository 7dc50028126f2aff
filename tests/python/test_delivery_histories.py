"""Random delivery histories: processing them day by day must give what one full refresh gives.

test_incremental.py checks the simulator's one history; a source system writes others. Here
Hypothesis tells delivery stories over a few days (delivery_history.py): real rows, then late
rows, duplicates, corrections of any mutable column, key moves (an order to another day or
month, an item to another order or product), deletes, malformed rows, withdrawals (an earlier
file re-sent without some rows, or without a correction it carried) and re-sends of a whole
day. The runner processes the landing zone day by day, as production would, and then:

(a) the marts, int_orders_summed_to_customer_months and the snapshots' current rows equal those
    of one full refresh of the same landing zone (order-independent checksums);
(b) re-running an already processed day changes nothing;
(c) every landed file's rows are accounted for: delivered = loaded + quarantined in
    `delivery_accounting`, and both match the rows the story put in the file;
and a key whose newest row is a delete marker is gone from its mart.

A failure prints the story (hypothesis.note) and the relations that differ. CI runs
DURABLE_HISTORY_EXAMPLES (default 2) examples; `make fuzz-histories` runs many more.
DURABLE_HISTORY_DELETES=0 leaves deletes out of the stories.
"""

from __future__ import annotations

import os
import tempfile
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from checks import AUDIT_COLUMNS, MARTS, relation_checksum, rows_checksum
from conftest import PROJECT_DIR, settings_under
from delivery_history import (
    Base,
    Correction,
    Delete,
    Duplicate,
    Event,
    History,
    KeyMove,
    Late,
    Malformed,
    Resend,
    Row,
    Withdrawal,
    deleted_keys,
    moment,
    quarantined,
    timestamp,
    write_day,
)
from durable.config import Settings
from durable.errors import ExitCode
from durable.pipeline import process_window
from durable.relations import SNAPSHOT_META
from durable.runner import Runner
from jaffle_simulator import COLUMNS, KEYS, relative_path

EXAMPLES = int(os.environ.get("DURABLE_HISTORY_EXAMPLES", "2"))
# Deletes are delivered as the source YAML's `meta.durable.delete_marker` column says; set 0 to
# leave them out of the stories (e.g. on a branch that does not process the marker yet).
DELETES_SUPPORTED = os.environ.get("DURABLE_HISTORY_DELETES", "1") != "0"
# An example is ~6 runs of 5-10 s; Hypothesis gives up shrinking after 300 s.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(600 + 120 * EXAMPLES)]

# Across a month's end, so an order can move to another month; the project's first possible
# event is 2018-09-01 (var earliest_event_date), and a time after a file's day + 1 is impossible:
# rows with such times are quarantined, so moves stay within those bounds.
DAYS = tuple(date(2018, 9, 29) + timedelta(days=i) for i in range(3))
ORDERS_PER_DAY = 3
COMPARED = (*MARTS, "int_orders_summed_to_customer_months")
SNAPSHOTS = ("snap_customers", "snap_products", "snap_order_status")
STATUSES = ("placed", "shipped", "completed", "returned")
# Names with the characters a CSV writer must quote.
NAMES = ("Ann Lee", "O'Brien, Jr.", 'Jo "JJ" Ng', "Zoë Ünal", "x")
# Days an order can be moved to (or a store opened on): inside the history and just before it.
MOVE_DAYS = (DAYS[0] - timedelta(days=2), DAYS[0] - timedelta(days=1), *DAYS)
# Per entity, (column, value) pairs that fail the column's declared check (type, min, max,
# required or accepted values): such a row is quarantined, whatever else it holds.
MALFORMED = {
    "customers": (("updated_at", "2018-09-31T10:00:00"),),
    "orders": (
        ("ordered_at", "2018-13-45T25:00:00"),
        ("subtotal", "12,3O"),
        ("tax_paid", "-5"),
        ("status", "lost"),
    ),
    "items": (("order_id", ""), ("sku", ""), ("updated_at", "not a time")),
    "products": (("price", "1O0"), ("price", "-100")),
    "stores": (("tax_rate", "1.5"), ("opened_at", "2018-02-30T00:00:00")),
    "supplies": (("cost", "-1"), ("perishable", "maybe")),
}
# A store or product that facts still reference, deleted or withdrawn, fails the project's
# relationship tests by design (the run stops): stories remove only what facts may lose.
DELETABLE = ("customers", "orders", "items", "supplies")


def delete_markers() -> dict[str, str]:
    """Each table's delete-marker column, as the reference project's source YAML declares it."""
    path = PROJECT_DIR / "models" / "staging" / "jaffle" / "_jaffle__sources.yml"
    markers = {}
    for source in yaml.safe_load(path.read_text())["sources"]:
        shared = (source.get("meta") or {}).get("durable", {}).get("delete_marker")
        for table in source["tables"]:
            meta = table.get("meta") or table.get("config", {}).get("meta") or {}
            marker = meta.get("durable", {}).get("delete_marker") or shared
            if marker:
                markers[table["name"]] = marker
    return markers


# Until the source YAML declares a marker, stories still delete (and fail): that is the point.
MARKERS = delete_markers()
DELETE_MARKER = next(iter(MARKERS.values()), "is_deleted")
DELETED_FROM = tuple(e for e in DELETABLE if e in MARKERS) or DELETABLE


# --- the generator: one small strategy per event kind --------------------------------------------


def days_from(first: date) -> st.SearchStrategy[date]:
    return st.sampled_from([day for day in DAYS if day >= first])


def at_and_day() -> st.SearchStrategy[tuple[str, date]]:
    """A new updated_at and the day it is delivered: that day or later (a late row)."""
    return st.tuples(st.sampled_from(DAYS), st.integers(0, 86399)).flatmap(
        lambda at: days_from(at[0]).map(lambda day: (moment(*at), day))
    )


def latest_version(base: Base, entity: str, key: tuple[str, ...]) -> Row:
    return [row for row in base.versions(entity) if row.key == key][-1]


@st.composite
def late_rows(draw: st.DrawFn, base: Base) -> Event:
    row = draw(st.sampled_from([r for r in base.rows if base.day_of(r) < DAYS[-1]]))
    day = draw(days_from(base.day_of(row) + timedelta(days=1)))
    return Late(day, row, base.label(row.entity, row.key))


@st.composite
def duplicates(draw: st.DrawFn, base: Base) -> Event:
    row = draw(st.sampled_from(base.rows))
    return Duplicate(draw(days_from(base.day_of(row))), row, base.label(row.entity, row.key))


def corrected_columns(base: Base, entity: str) -> st.SearchStrategy[dict[str, str]]:
    """New values for some mutable columns of an entity, each valid for its declared check."""
    cents = st.integers(0, 5000)
    changes = {
        "customers": [st.fixed_dictionaries({"name": st.sampled_from(NAMES)})],
        "orders": [
            st.fixed_dictionaries({"customer": st.sampled_from(base.values("orders", "customer"))}),
            st.fixed_dictionaries({"store_id": st.sampled_from(base.values("stores", "id"))}),
            st.fixed_dictionaries({"status": st.sampled_from(STATUSES)}),
            # order_total = subtotal + tax_paid is a test of fct_orders: a correction keeps it.
            st.builds(
                lambda sub, tax: {
                    "subtotal": str(sub),
                    "tax_paid": str(tax),
                    "order_total": str(sub + tax),
                },
                cents,
                cents,
            ),
        ],
        "products": [
            st.fixed_dictionaries({"name": st.sampled_from(NAMES)}),
            st.fixed_dictionaries({"type": st.sampled_from(("jaffle", "beverage"))}),
            st.fixed_dictionaries({"price": cents.map(str)}),
            st.fixed_dictionaries({"description": st.sampled_from(NAMES)}),
        ],
        "stores": [
            st.fixed_dictionaries({"name": st.sampled_from(NAMES)}),
            st.fixed_dictionaries(
                {"opened_at": st.sampled_from(MOVE_DAYS[:3]).map(lambda day: moment(day, 0))}
            ),
            st.fixed_dictionaries({"tax_rate": st.integers(0, 10000).map(lambda r: f"{r / 1e4}")}),
        ],
        "supplies": [
            st.fixed_dictionaries({"name": st.sampled_from(NAMES)}),
            st.fixed_dictionaries({"cost": cents.map(str)}),
            st.fixed_dictionaries({"perishable": st.sampled_from(("True", "False"))}),
        ],
    }
    return st.one_of(changes[entity])


@st.composite
def corrections(draw: st.DrawFn, base: Base) -> Event:
    entity = draw(st.sampled_from(("customers", "orders", "products", "stores", "supplies")))
    key = draw(st.sampled_from(base.keys(entity)))
    changes = draw(corrected_columns(base, entity))
    at, day = draw(at_and_day())
    row = latest_version(base, entity, key).with_values(**changes, updated_at=at)
    return Correction(day, row, base.label(entity, key), tuple(changes))


@st.composite
def key_moves(draw: st.DrawFn, base: Base) -> Event:
    """An order to another day or month, an item to another order or product."""
    entity, column = draw(
        st.sampled_from((("orders", "ordered_at"), ("items", "order_id"), ("items", "sku")))
    )
    key = draw(st.sampled_from(base.keys(entity)))
    before = latest_version(base, entity, key)
    old = before.values[column]
    if column == "ordered_at":
        target = draw(st.sampled_from([d for d in MOVE_DAYS if str(d) != old[:10]]))
        new = moment(target, draw(st.integers(0, 86399)))
    else:
        pool = (
            base.values("orders", "id") if column == "order_id" else base.values("products", "sku")
        )
        new = draw(st.sampled_from([v for v in pool if v != old]))
    at, day = draw(at_and_day())
    row = before.with_values(**{column: new}, updated_at=at)
    shown = (base.label("orders", (old,)), base.label("orders", (new,)))
    old, new = shown if column == "order_id" else (old, new)
    return KeyMove(day, row, base.label(entity, key), (column,), old, new)


@st.composite
def deletes(draw: st.DrawFn, base: Base) -> Event:
    entity = draw(st.sampled_from(DELETED_FROM))
    key = draw(st.sampled_from(base.keys(entity)))
    at, day = draw(at_and_day())
    values = dict.fromkeys(COLUMNS[entity], "") | dict(zip(KEYS[entity], key, strict=True))
    row = Row(entity, values | {"updated_at": at}, deleted=True)
    return Delete(day, row, base.label(entity, key))


@st.composite
def malformed_rows(draw: st.DrawFn, base: Base) -> Event:
    entity = draw(st.sampled_from(sorted(MALFORMED)))
    column, value = draw(st.sampled_from(MALFORMED[entity]))
    template = draw(st.sampled_from(base.versions(entity)))
    values = {**template.values, column: value}
    if entity not in DELETABLE:
        # At the template's own updated_at, the two rows conflict and both are quarantined: a
        # store or product that facts reference would be lost, which fails the run by design.
        shift = timedelta(seconds=draw(st.integers(1, 3600)))
        values["updated_at"] = timestamp(datetime.fromisoformat(template.updated_at) + shift)
    row = Row(entity, values, malformed=True)
    return Malformed(draw(st.sampled_from(DAYS)), row, base.label(entity, template.key), column)


@st.composite
def withdrawals(draw: st.DrawFn, base: Base) -> Event:
    files = sorted({(r.entity, base.day_of(r)) for r in base.rows if r.entity in DELETABLE})
    entity, file_day = draw(st.sampled_from(files))
    keys = sorted({r.key for r in base.rows if r.entity == entity and base.day_of(r) == file_day})
    withdrawn = tuple(draw(st.lists(st.sampled_from(keys), min_size=1, max_size=2, unique=True)))
    labels = tuple(base.label(entity, key) for key in withdrawn)
    return Withdrawal(draw(days_from(file_day)), entity, file_day, withdrawn, labels)


@st.composite
def withdrawn_corrections(draw: st.DrawFn, base: Base) -> tuple[Event, Event]:
    """A correction in a file of its own day, then that file re-sent without it: the key falls
    back to the version before (a withdrawn price re-prices the items it priced)."""
    entity = draw(st.sampled_from(("customers", "orders", "products", "stores", "supplies")))
    last_day = {key: base.day_of(latest_version(base, entity, key)) for key in base.keys(entity)}
    key = draw(st.sampled_from([key for key, day in last_day.items() if day < DAYS[-1]]))
    day = draw(days_from(last_day[key] + timedelta(days=1)))
    changes = draw(corrected_columns(base, entity))
    at = moment(day, draw(st.integers(0, 86399)))
    label = base.label(entity, key)
    row = latest_version(base, entity, key).with_values(**changes, updated_at=at)
    withdrawn_on = draw(days_from(day))
    return Correction(day, row, label, tuple(changes)), Withdrawal(
        withdrawn_on, entity, day, (key,), (label,)
    )


@st.composite
def resends(draw: st.DrawFn) -> Event:
    file_day = draw(st.sampled_from(DAYS[:-1]))
    return Resend(draw(days_from(file_day + timedelta(days=1))), file_day)


def events(base: Base) -> st.SearchStrategy[Event | tuple[Event, ...]]:
    kinds = [
        late_rows(base),
        duplicates(base),
        corrections(base),
        key_moves(base),
        malformed_rows(base),
        withdrawals(base),
        withdrawn_corrections(base),
        resends(),
    ]
    return st.one_of(*kinds, *([deletes(base)] if DELETES_SUPPORTED else []))


def one_malformed_per_file(events: list[Event]) -> list[Event]:
    """At most one malformed row per file. A file whose column mostly fails its type is
    rejected whole, as a retyped column (test_bad_input.py), and the first day's stores file
    holds a single store: two malformed rows would be most of it."""
    files: set[tuple[str, date]] = set()
    kept = []
    for event in events:
        if isinstance(event, Malformed):
            if (event.row.entity, event.day) in files:
                continue
            files.add((event.row.entity, event.day))
        kept.append(event)
    return kept


def histories(base: Base) -> st.SearchStrategy[History]:
    def story(drawn: list[Event | tuple[Event, ...]]) -> History:
        flat = [e for item in drawn for e in (item if isinstance(item, tuple) else (item,))]
        kept = one_malformed_per_file(flat)
        return History(base, tuple(sorted(kept, key=lambda e: e.day)))  # stable: pairs in order

    return st.lists(events(base), max_size=8).map(story)


# --- running a history and what must hold -------------------------------------------------------


def under(root: Path, landing: Path) -> Settings:
    return settings_under(root, landing_dir=landing, retry_wait=0.1)


# Which copy of one version a snapshot's row names: a version delivered twice is captured from
# its first copy day by day and from its last by a full refresh. Same data, other file.
COPY_LINEAGE = ("_source_file", "_delivery_date", "_row_number")


def current_rows_checksum(con: duckdb.DuckDBPyConnection, relation: str) -> tuple[int, str]:
    """A snapshot's current rows, without dbt's bookkeeping: what a fresh snapshot captures."""
    schema, table = relation.split(".")
    columns = [
        name
        for (name,) in con.execute(
            "select column_name from information_schema.columns "
            "where table_schema = ? and table_name = ? order by ordinal_position",
            [schema, table],
        ).fetchall()
        if name not in (*SNAPSHOT_META, *AUDIT_COLUMNS, *COPY_LINEAGE)
    ]
    query = f"select {', '.join(columns)} from {relation} where dbt_valid_to is null"
    return rows_checksum(con.execute(query).fetchall())


def checksums(run: Settings) -> dict[str, tuple[int, str]]:
    with duckdb.connect(str(run.duckdb_path), read_only=True) as con:
        found = {m: relation_checksum(con, f"{run.schema}.{m}", AUDIT_COLUMNS) for m in COMPARED}
        for snapshot in SNAPSHOTS:
            found[f"{snapshot} (current)"] = current_rows_checksum(con, f"{run.schema}.{snapshot}")
            # Re-running must not touch history either: every row, dbt's columns included.
            found[snapshot] = relation_checksum(con, f"{run.schema}.{snapshot}", AUDIT_COLUMNS)
        return found


def differing(
    left: dict[str, tuple[int, str]], right: dict[str, tuple[int, str]], names: list[str]
) -> list[str]:
    return [f"{n}: {left[n][0]} rows vs {right[n][0]}" for n in names if left[n] != right[n]]


def accounting_problems(run: Settings, history: History) -> list[str]:
    """Every landed file: delivered = loaded + quarantined, and the story's own row counts."""
    expected = {
        relative_path(*file): (len(rows), sum(quarantined(rows)))
        for file, rows in history.final_files().items()
    }
    with duckdb.connect(str(run.duckdb_path), read_only=True) as con:
        accounted = con.execute(
            "select source_file, file_status, rows_delivered, rows_loaded, rows_quarantined "
            f"from {run.schema}.delivery_accounting"
        ).fetchall()
    problems = []
    seen = {path for path, *_ in accounted}
    problems += [f"{path}: not in delivery_accounting" for path in sorted(expected.keys() - seen)]
    for path, status, delivered, loaded, rejected in accounted:
        if status not in ("loaded", "replaced"):
            problems.append(f"{path}: file {status}, expected loaded")
        elif delivered != loaded + rejected:
            problems.append(f"{path}: {delivered} delivered != {loaded} loaded + {rejected}")
        if path in expected and (delivered, rejected) != expected[path]:
            rows, bad = expected[path]
            problems.append(
                f"{path}: {delivered} delivered, {rejected} quarantined; "
                f"the story delivered {rows}, {bad} to quarantine"
            )
    return problems


# Where a deleted key must be gone from: each entity's mart, by its key.
DELETED_FROM_MART = {
    "orders": ("fct_orders", "order_id"),
    "items": ("fct_order_items", "order_item_id"),
    # A customer that orders still name comes back inferred, without a name: only a customer
    # record of its own is a deleted customer's.
    "customers": ("dim_customers where not is_inferred and", "customer_id"),
}


def deletion_problems(run: Settings, history: History) -> list[str]:
    problems = []
    with duckdb.connect(str(run.duckdb_path), read_only=True) as con:
        for entity, keys in deleted_keys(history.final_files()).items():
            if entity not in DELETED_FROM_MART:
                continue
            relation, column = DELETED_FROM_MART[entity]
            table, _, condition = relation.partition(" where ")
            where = f"where {condition} " if condition else "where "
            for (key,) in keys:
                query = f"select count(*) from {run.schema}.{table} {where}{column} = ?"
                if con.execute(query, [key]).fetchone()[0]:
                    problems.append(f"{history.base.label(entity, (key,))} deleted, in {table}")
    return problems


def run_day_by_day(daily: Settings, history: History) -> list[str]:
    """Each day's files land, then the runner processes what is due, as production would."""
    for day, files in history.deliveries().items():
        written = write_day(daily.landing_dir, files, DELETE_MARKER)
        report = Runner(daily, progress="quiet").run()
        if report.exit_code != ExitCode.OK:
            return [f"day {day} ({', '.join(written)}): run failed: {report.failure}"]
    return []


def problems_of(history: History, rerun: date, root: Path) -> list[str]:
    """Everything that does not hold for this history, processed in `root`; [] when all does."""
    daily = under(root / "daily", root / "landing")
    failed = run_day_by_day(daily, history)
    if failed:
        return failed

    # (a) one full refresh of the same landing zone, in a warehouse of its own.
    full = under(root / "full", daily.landing_dir)
    full.duckdb_path.parent.mkdir(parents=True)
    rebuilt = process_window(full, None, None, full_refresh=True, quiet=True)
    if not rebuilt.success:
        failures = [f"{n.unique_id}: {n.message}" for n in rebuilt.build.failures()]
        return [f"the full refresh failed: {failures or rebuilt.build.exception}"]
    day_by_day, expected = checksums(daily), checksums(full)
    compared = [*COMPARED, *(f"{s} (current)" for s in SNAPSHOTS)]
    problems = [
        f"day by day != full refresh: {d}" for d in differing(day_by_day, expected, compared)
    ]

    # (b) re-running a processed day.
    report = Runner(daily, progress="quiet").run(windows=[(rerun, rerun)])
    if report.exit_code != ExitCode.OK:
        problems.append(f"re-running {rerun} failed: {report.failure}")
    else:
        again = checksums(daily)
        problems += [
            f"re-running {rerun} changed {d}" for d in differing(again, day_by_day, list(again))
        ]

    # (c) every row of every file accounted for; and deletes delete.
    problems += [f"day by day: {p}" for p in accounting_problems(daily, history)]
    problems += [f"full refresh: {p}" for p in accounting_problems(full, history)]
    return problems + deletion_problems(full, history)


@pytest.fixture(scope="module")
def base(jafgen_cache: Path) -> Base:
    return Base.from_simulator(DAYS, ORDERS_PER_DAY, jafgen_cache)


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=False,
    database=None,  # a failure replays from its seed (`make fuzz-histories HISTORY_SEED=...`)
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,
    ],
)
@given(data=st.data())
def test_day_by_day_equals_a_full_refresh_of_any_history(base: Base, data: Any) -> None:
    history = data.draw(histories(base), label="history")
    rerun = data.draw(st.sampled_from(DAYS), label="re-run day")
    note(f"story:\n{history.story()}")
    with tempfile.TemporaryDirectory() as tmp:
        problems = problems_of(history, rerun, Path(tmp))
    for problem in problems:
        note(problem)
    assert not problems, "\n".join(problems)
