"""The foundation's promises, checked the way a user would: compare the tables themselves.

One warehouse processes ten days of messy deliveries day by day (module fixture); the tests then
re-run windows, rebuild from scratch and inject late rows, and compare row-level checksums.
"""

from __future__ import annotations

import csv
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import pytest

from checks import (
    ACROSS_ENGINES_EXCLUDE,
    AUDIT_COLUMNS,
    MARTS,
    SNAPSHOTS,
    relation_checksum,
    rows_checksum,
    warehouse_checksums,
)
from conftest import ENGINES, SEED, Warehouse, connect, engine_server, make_warehouse
from jaffle_simulator import COLUMNS, DeliveryPlan

pytestmark = pytest.mark.slow


# Each engine's tables right after the day-by-day build, before tests add late rows: the
# engines' tests may run in any order, so the cross-engine test compares these.
AS_BUILT: dict[str, dict] = {}


def build_daily(
    plan: DeliveryPlan, root: Path, request: pytest.FixtureRequest, engine: str
) -> Warehouse:
    """Every delivery landed and processed day by day, as production would."""
    warehouse = make_warehouse(root, postgres=engine_server(request, engine))
    for day in plan.delivery_dates:
        plan.land(warehouse.landing, only=day)
        warehouse.run(day, day)
    with connect(warehouse.settings) as con:
        AS_BUILT[engine] = warehouse_checksums(con, exclude=ACROSS_ENGINES_EXCLUDE)
        AS_BUILT[engine]["quarantined_rows"] = relation_checksum(
            con, "analytics.quarantined_rows", AUDIT_COLUMNS
        )
    return warehouse


@pytest.fixture(scope="module")
def daily_duckdb(
    plan: DeliveryPlan, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Warehouse:
    return build_daily(plan, tmp_path_factory.mktemp("daily"), request, "duckdb")


@pytest.fixture(scope="module")
def daily_postgres(
    plan: DeliveryPlan, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Warehouse:
    return build_daily(plan, tmp_path_factory.mktemp("daily-pg"), request, "postgres")


@pytest.fixture(scope="module", params=ENGINES)
def daily(request: pytest.FixtureRequest) -> Warehouse:
    """The day-by-day warehouse on each engine; every test using it runs on both."""
    return request.getfixturevalue(f"daily_{request.param}")


def all_checksums(warehouse: Warehouse, exclude: tuple[str, ...] = ()) -> dict:
    relations = [f"analytics.{name}" for name in (*MARTS, *SNAPSHOTS)]
    relations += ["analytics.stg_jaffle__orders", "analytics.quarantined_rows"]
    return {r: warehouse.checksum(r, exclude) for r in relations}


# Every table a correction must reach: staging, the marts, the monthly rollup.
CORRECTED = (
    "stg_jaffle__orders",
    "stg_jaffle__items",
    "stg_jaffle__customers",
    *MARTS,
    "int_orders_summed_to_customer_months",
    "quarantined_rows",
)


def current_snapshot_rows(warehouse: Warehouse, snapshot: str) -> tuple[int, str]:
    """The snapshot's current rows (one per key), without the columns a run sets itself."""
    columns = [
        c
        for c in warehouse.columns(f"analytics.{snapshot}")
        if c not in (*AUDIT_COLUMNS, "dbt_valid_to")
    ]
    return rows_checksum(
        warehouse.query(
            f"select {', '.join(columns)} from analytics.{snapshot} where dbt_valid_to is null"
        )
    )


def assert_equals_full_refresh(warehouse: Warehouse, rebuilt: Warehouse) -> None:
    """Every table a correction reaches, and the snapshots' current rows, as a rebuild has them."""
    different = {}
    for relation in CORRECTED:
        incremental = warehouse.checksum(f"analytics.{relation}", AUDIT_COLUMNS)
        full = rebuilt.checksum(f"analytics.{relation}", AUDIT_COLUMNS)
        if incremental != full:
            different[relation] = (incremental, full)
    for snapshot in SNAPSHOTS:
        incremental = current_snapshot_rows(warehouse, snapshot)
        full = current_snapshot_rows(rebuilt, snapshot)
        if incremental != full:
            different[snapshot] = (incremental, full)
    assert not different, f"incremental != full refresh: {different}"


def delivered_rows(landing: Path, entity: str) -> list[dict[str, str]]:
    """Every row delivered for `entity` but the deletes (`is_deleted` true)."""
    rows = []
    for path in sorted((landing / entity).glob("dt=*/*.csv")):
        with path.open(newline="") as handle:
            rows += [row for row in csv.DictReader(handle) if row.get("is_deleted") != "true"]
    return rows


def test_rerunning_a_window_changes_nothing(daily: Warehouse, plan: DeliveryPlan) -> None:
    before = all_checksums(daily)
    last, middle = plan.delivery_dates[-1], plan.delivery_dates[len(plan.delivery_dates) // 2]
    daily.run(last, last)
    daily.run(middle, middle)
    daily.run(last, last)
    assert all_checksums(daily) == before
    # The merge rewrote no row: every fact row still carries the invocation that first wrote it.
    rewritten = daily.query("select count(distinct _invocation_id) from analytics.fct_orders")[0][0]
    assert rewritten <= len(plan.delivery_dates)


@pytest.mark.postgres
def test_duckdb_and_postgres_hold_the_same_rows(
    daily_duckdb: Warehouse, daily_postgres: Warehouse
) -> None:
    """The same deliveries, processed day by day on each engine, give the same marts, snapshots
    and quarantine, row for row (numbers compared to 4 decimals, timestamps in ISO form)."""
    duckdb_tables, postgres_tables = AS_BUILT["duckdb"], AS_BUILT["postgres"]
    assert duckdb_tables.keys() == postgres_tables.keys()
    different = {
        name: (duckdb_tables[name], postgres_tables[name])
        for name in duckdb_tables
        if duckdb_tables[name] != postgres_tables[name]
    }
    assert not different, f"DuckDB and PostgreSQL differ: {different}"
    assert all(rows > 0 for rows, _ in duckdb_tables.values())


def test_day_by_day_equals_one_full_refresh(
    daily: Warehouse, plan: DeliveryPlan, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    rebuilt = make_warehouse(
        tmp_path, landing=daily.landing, postgres=engine_server(request, daily.engine)
    )
    rebuilt.run(None, None, full_refresh=True)
    for mart in MARTS:
        incremental = daily.checksum(f"analytics.{mart}", AUDIT_COLUMNS)
        full = rebuilt.checksum(f"analytics.{mart}", AUDIT_COLUMNS)
        assert incremental == full, f"{mart}: day by day {incremental} != full refresh {full}"
        assert incremental[0] > 0, f"{mart} is empty"
    # The quarantine is maintained per window too (held items released as orders arrive).
    for relation in ("quarantined_rows", "delivery_accounting"):
        incremental = daily.checksum(f"analytics.{relation}", ("_loaded_at",))
        full = rebuilt.checksum(f"analytics.{relation}", ("_loaded_at",))
        assert incremental == full, f"{relation}: day by day {incremental} != full {full}"
        assert incremental[0] > 0, f"{relation} is empty"


def test_corrections_update_in_place_and_snapshots_keep_each_version(daily: Warehouse) -> None:
    orders = delivered_rows(daily.landing, "orders")
    statuses: dict[str, set[str]] = {}
    for row in orders:
        statuses.setdefault(row["id"], set()).add(row["status"])
    deleted = set(daily.query("select distinct id from raw.orders where is_deleted = 'true'"))
    corrected = [
        order for order, seen in statuses.items() if len(seen) > 1 and (order,) not in deleted
    ]
    assert len(corrected) > 50, "the simulator should deliver status corrections"

    # One row per order, holding the latest delivered status.
    latest: dict[str, tuple[str, str]] = {}
    for row in orders:
        if row["id"] in corrected and (
            row["id"] not in latest or row["updated_at"] >= latest[row["id"]][0]
        ):
            latest[row["id"]] = (row["updated_at"], row["status"])
    facts = dict(daily.query("select order_id, order_status from analytics.fct_orders"))
    for order in corrected:
        assert facts[order] == latest[order][1]
    assert (
        daily.query("select count(*) - count(distinct order_id) from analytics.fct_orders")[0][0]
        == 0
    )

    # The snapshot holds each captured version once, and exactly one current version per order.
    duplicates = daily.query(
        """select order_id, updated_at from analytics.snap_order_status
        group by order_id, updated_at having count(*) > 1"""
    )
    assert duplicates == []
    current = daily.query(
        """select count(*), count(distinct order_id) from analytics.snap_order_status
        where dbt_valid_to is null"""
    )[0]
    assert current[0] == current[1] == len(facts)
    histories = daily.query(
        """select count(*) from (select order_id from analytics.snap_order_status
        group by order_id having count(*) > 1) as histories"""
    )[0][0]
    assert histories > 50, "status changes should leave history in the snapshot"

    renamed = daily.query(
        """select customer_id from analytics.snap_customers
        group by customer_id having count(distinct customer_name) > 1"""
    )
    assert renamed, "customer name corrections should leave history in the snapshot"


def test_duplicates_never_duplicate_a_mart_row(daily: Warehouse, plan: DeliveryPlan) -> None:
    duplicated_in_file = sum(s.duplicates_in_file for s in plan.stats.values())
    resent = sum(s.resent for s in plan.stats.values())
    assert duplicated_in_file > 0 and resent > 0, "the simulator should deliver duplicates"

    items = delivered_rows(daily.landing, "items")
    delivered_ids = Counter(row["id"] for row in items)
    assert max(delivered_ids.values()) > 1
    fact_items = daily.query("select order_item_id from analytics.fct_order_items")
    assert len(fact_items) == len({row[0] for row in fact_items})
    # Every delivered item whose order has landed is there exactly once.
    landed_orders = {row[0] for row in daily.query("select order_id from analytics.fct_orders")}
    expected = {row["id"] for row in items if row["order_id"] in landed_orders}
    assert {row[0] for row in fact_items} == expected


def test_late_row_within_lookback_lands_on_its_day(daily: Warehouse, plan: DeliveryPlan) -> None:
    last = plan.delivery_dates[-1]
    order_day = last - timedelta(days=2)
    template = daily.query(
        f"""select order_id, customer_id, store_id from analytics.fct_orders
        where order_date = '{order_day}' limit 1"""
    )[0]
    before = dict(
        daily.query(
            f"""select order_date, sum(revenue) from analytics.agg_daily_revenue
            where order_date = '{order_day}' group by order_date"""
        )
    )[order_day]

    # A new order placed two days ago arrives in a second file of today's delivery.
    late_file = daily.landing / "orders" / f"dt={last}" / "part-0001.csv"
    ordered_at = f"{order_day}T12:34:00"
    with late_file.open("w", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(COLUMNS["orders"])
        writer.writerow(
            [
                "late-order-1",
                template[1],
                ordered_at,
                template[2],
                "1250",
                "75",
                "1325",
                "completed",
                ordered_at,
            ]
        )
    try:
        daily.run(last, last)
        row = daily.query(
            "select order_date, order_total from analytics.fct_orders "
            "where order_id = 'late-order-1'"
        )
        assert row == [(order_day, pytest.approx(13.25))]
        after = daily.query(
            f"""select sum(revenue) from analytics.agg_daily_revenue
            where order_date = '{order_day}'"""
        )[0][0]
        assert after - before == pytest.approx(12.50)
    finally:
        late_file.unlink()


def test_malformed_rows_are_counted_in_quarantine_not_lost(
    daily: Warehouse, plan: DeliveryPlan
) -> None:
    delivered_malformed = sum(s.malformed for s in plan.stats.values())
    assert delivered_malformed > 0, "the simulator should deliver malformed rows"
    quarantined = daily.query(
        """select _source_file, _row_number, reason from analytics.quarantined_rows
        where entity = 'orders' and reason like 'malformed%'"""
    )
    assert len(quarantined) == delivered_malformed
    # Each malformed row was re-sent fixed: its order is in the mart.
    broken_ids = set()
    for source_file, row_number, _ in quarantined:
        with (daily.landing / source_file).open(newline="") as handle:
            broken_ids.add(list(csv.DictReader(handle))[row_number - 1]["id"])
    facts = {r[0] for r in daily.query("select order_id from analytics.fct_orders")}
    assert broken_ids <= facts


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ({"start_date": "2018-02-30"}, "Invalid var start_date=2018-02-30"),
        ({"start_date": "yesterday"}, "Invalid var start_date=yesterday"),
        ({"start_date": "2018-09-05", "end_date": "2018-09-01"}, "is before start_date"),
        ({"start_date": "2018-09-05", "lookback_days": -1}, "Invalid var lookback_days=-1"),
    ],
)
def test_bad_window_vars_stop_before_any_sql(
    warehouse: Warehouse, variables: dict, message: str
) -> None:
    from durable import dbt

    outcome = dbt.invoke(warehouse.settings, ["build"], variables, quiet=True)
    assert not outcome.success
    assert message in str(outcome.exception)
    assert [n for n in outcome.nodes if n.resource_type != "operation"] == []
    assert not warehouse.settings.duckdb_path.exists() or not warehouse.query(
        "select * from information_schema.tables where table_schema = 'analytics'"
    )


@pytest.mark.parametrize("engine", ENGINES)
def test_a_redelivered_file_that_withdraws_rows_equals_a_full_refresh(
    engine: str, plan: DeliveryPlan, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """Staging re-ranks only keys with new versions; a day's orders file re-sent with some rows
    withdrawn and one corrected must still give the staging a rebuild from the same files gives:
    the withdrawn orders fall back to an earlier version or leave, the corrected one changes.
    (The marts upsert and never delete, so a withdrawn order stays there until a full refresh:
    docs/INCREMENTAL.md, "Known limits".)"""
    server = engine_server(request, engine)
    warehouse = make_warehouse(tmp_path / "daily", postgres=server)
    days = plan.delivery_dates[:3]
    for day in days:
        plan.land(warehouse.landing, only=day)
        warehouse.run(day, day)

    resent = next((warehouse.landing / "orders" / f"dt={days[1]}").glob("*.csv"))
    with resent.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    elsewhere = Counter(row["id"] for row in delivered_rows(warehouse.landing, "orders"))
    withdrawn = {row["id"] for row in rows[:5]}
    kept = [row for row in rows if row["id"] not in withdrawn]
    # An order delivered only in this file, so the correction is its latest version.
    position = next(i for i, row in enumerate(kept) if elsewhere[row["id"]] == 1)
    corrected = kept[position]["id"]
    kept[position] = {**kept[position], "status": "returned"}
    with resent.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS["orders"], lineterminator="\n")
        writer.writeheader()
        writer.writerows(kept)
    warehouse.run(days[1], days[2])

    rebuilt = make_warehouse(tmp_path / "rebuilt", landing=warehouse.landing, postgres=server)
    rebuilt.run(None, None, full_refresh=True)
    assert_equals_full_refresh(warehouse, rebuilt)
    status = warehouse.query(
        f"select order_status from analytics.stg_jaffle__orders where order_id = '{corrected}'"
    )
    assert status == [("returned",)]
    remaining = warehouse.query(
        "select order_id, _source_file from analytics.stg_jaffle__orders where order_id in ("
        + ", ".join(f"'{order_id}'" for order_id in sorted(withdrawn))
        + ")"
    )
    assert all(source != str(resent.relative_to(warehouse.landing)) for _, source in remaining)


@pytest.mark.parametrize("engine", ENGINES)
def test_a_corrected_product_and_customer_reach_every_mart(
    engine: str, plan: DeliveryPlan, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """A product retyped (a jaffle becomes a beverage) and renamed, and a customer renamed, after
    their orders were published: the next window leaves every mart as a full refresh of the same
    files would, so no mart keeps the old values on older rows."""
    server = engine_server(request, engine)
    warehouse = make_warehouse(tmp_path / "daily", postgres=server)
    days = plan.delivery_dates[:3]
    for day in days:
        plan.land(warehouse.landing, only=day)
        warehouse.run(day, day)

    sold = warehouse.query(
        "select product_sku, count(*) from analytics.fct_order_items "
        "group by product_sku order by 2 desc, 1 limit 1"
    )[0][0]
    product = [row for row in delivered_rows(warehouse.landing, "products") if row["sku"] == sold]
    buyer = warehouse.query("select customer_id from analytics.fct_orders order by 1 limit 1")[0]
    customer = [r for r in delivered_rows(warehouse.landing, "customers") if r["id"] == buyer[0]]
    corrected_at = f"{days[2]}T23:59:59"  # later than any version delivered so far
    corrections = {
        "products": {
            **max(product, key=lambda row: row["updated_at"]),
            "name": "renamed product",
            "type": "beverage" if product[-1]["type"] == "jaffle" else "jaffle",
            "updated_at": corrected_at,
        },
        "customers": {**customer[-1], "name": "renamed customer", "updated_at": corrected_at},
    }
    for entity, row in corrections.items():
        path = warehouse.landing / entity / f"dt={days[2]}" / "part-0001.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=COLUMNS[entity], lineterminator="\n")
            writer.writeheader()
            writer.writerow(row)
    warehouse.run(days[2], days[2])

    assert warehouse.query(
        f"select product_name from analytics.dim_products where product_sku = '{sold}'"
    ) == [("renamed product",)]
    assert warehouse.query(
        f"select customer_name from analytics.dim_customers where customer_id = '{buyer[0]}'"
    ) == [("renamed customer",)]
    rebuilt = make_warehouse(tmp_path / "rebuilt", landing=warehouse.landing, postgres=server)
    rebuilt.run(None, None, full_refresh=True)
    for mart in (*MARTS, "int_orders_summed_to_customer_months"):
        incremental = warehouse.checksum(f"analytics.{mart}", AUDIT_COLUMNS)
        full = rebuilt.checksum(f"analytics.{mart}", AUDIT_COLUMNS)
        assert incremental == full, f"{mart}: after the corrections {incremental} != {full}"


def write_correction(landing: Path, entity: str, day: date, rows: list[dict[str, str]]) -> Path:
    """A second file of `day`'s delivery of `entity`, with a delete marker column."""
    path = landing / entity / f"dt={day}" / "part-0001.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as handle:
        fields = [*COLUMNS[entity], "is_deleted"]
        writer = csv.DictWriter(handle, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows([{field: row.get(field, "") for field in fields} for row in rows])
    return path


@pytest.mark.parametrize("engine", ENGINES)
def test_deletes_moves_and_late_versions_equal_a_full_refresh(
    engine: str, jafgen_cache: Path, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """After three published days, one window brings a delete of an order (and its items) and
    of a customer, an order moved to another day, month and customer, an item moved to another
    order and product, and a product price version that arrives late for items already
    published; then the same corrections are delivered again, with a newer version of an item
    still waiting for its order; then both are withdrawn (their files re-sent without them).
    Each time every mart, the monthly rollup, staging, the quarantine and the snapshots'
    current rows equal a full refresh of the same files."""
    # Deliveries across a month's end, so an order can move to another month.
    plan = DeliveryPlan.build(seed=SEED, days=5, start=date(2018, 9, 28), cache_dir=jafgen_cache)
    server = engine_server(request, engine)
    warehouse = make_warehouse(tmp_path / "daily", postgres=server)
    days = plan.delivery_dates[:5]
    for day in days[:3]:
        plan.land(warehouse.landing, only=day)
        warehouse.run(day, day)

    def latest(entity: str, key: str, value: str) -> dict[str, str]:
        rows = [r for r in delivered_rows(warehouse.landing, entity) if r[key] == value]
        return max(rows, key=lambda row: row["updated_at"])

    orders = warehouse.query(
        "select order_id, customer_id, order_date from analytics.fct_orders "
        "where item_count > 0 order by order_id"
    )
    first_day = [o for o in orders if o[2] == min(o[2] for o in orders)]
    deleted_order, moved_order = first_day[0][0], first_day[1][0]
    deleted_items = [
        row[0]
        for row in warehouse.query(
            "select order_item_id from analytics.fct_order_items "
            f"where order_id = '{deleted_order}'"
        )
    ]
    other_customer = next(o[1] for o in orders if o[1] != first_day[1][1])
    deleted_customer = next(o[1] for o in orders if o[1] not in (other_customer, first_day[1][1]))
    moved_item, item_order, item_sku = warehouse.query(
        "select order_item_id, order_id, product_sku from analytics.fct_order_items "
        f"where order_id not in ('{deleted_order}', '{moved_order}') order by 1 limit 1"
    )[0]
    new_order = next(o[0] for o in orders if o[0] not in (deleted_order, moved_order, item_order))
    new_sku = warehouse.query(
        f"select product_sku from analytics.dim_products where product_sku <> '{item_sku}' "
        "order by 1 limit 1"
    )[0][0]
    sold = warehouse.query(
        "select product_sku from analytics.fct_order_items "
        "group by product_sku order by count(*) desc, 1 limit 1"
    )[0][0]
    first_price = min(
        (r for r in delivered_rows(warehouse.landing, "products") if r["sku"] == sold),
        key=lambda row: row["updated_at"],
    )

    corrected_at = f"{days[3]}T00:00:01"  # later than any version delivered so far
    moved = latest("orders", "id", moved_order)
    # An item whose order never arrives: held in the quarantine, under its newest version.
    orphan = {
        **latest("items", "id", moved_item),
        "id": "orphan-item",
        "order_id": "order-not-delivered",
        "updated_at": corrected_at,
    }
    corrections = {
        "orders": [
            {"id": deleted_order, "updated_at": corrected_at, "is_deleted": "true"},
            {
                **moved,
                "customer": other_customer,
                "ordered_at": f"{days[3]}T00:00:00",  # the next month's first day
                "updated_at": corrected_at,
                "is_deleted": "false",
            },
        ],
        "items": [
            *(
                {"id": item, "updated_at": corrected_at, "is_deleted": "true"}
                for item in deleted_items
            ),
            {
                **latest("items", "id", moved_item),
                "order_id": new_order,
                "sku": new_sku,
                "updated_at": corrected_at,
            },
            orphan,
        ],
        "customers": [{"id": deleted_customer, "updated_at": corrected_at, "is_deleted": "true"}],
        # A price that held from the first day's noon, known only now.
        "products": [{**first_price, "price": "123", "updated_at": f"{first_day[1][2]}T12:00:00"}],
    }
    for entity, rows in corrections.items():
        write_correction(warehouse.landing, entity, days[3], rows)
    plan.land(warehouse.landing, only=days[3])
    # No lookback: what the window recomputes must come from the corrections themselves.
    warehouse.run(days[3], days[3], lookback_days=0)

    rebuilt = make_warehouse(tmp_path / "rebuilt", landing=warehouse.landing, postgres=server)
    rebuilt.run(None, None, full_refresh=True)
    assert_equals_full_refresh(warehouse, rebuilt)
    assert warehouse.query(
        f"select count(*) from analytics.fct_orders where order_id = '{deleted_order}'"
    ) == [(0,)]
    assert warehouse.query(
        f"select order_date from analytics.fct_orders where order_id = '{moved_order}'"
    ) == [(days[3],)]
    assert warehouse.query(
        "select count(*) from analytics.snap_order_status "
        f"where order_id = '{deleted_order}' and dbt_valid_to is null"
    ) == [(0,)]
    repriced = warehouse.query(
        "select count(*) from analytics.fct_order_items "
        f"where product_sku = '{sold}' and product_price = 1.23"
    )[0][0]
    assert repriced > 0, "the late price should reach the items it applies to"
    deletes = warehouse.query("select sum(rows_deleted) from analytics.delivery_accounting")
    assert deletes == [(len(deleted_items) + 2,)]

    # The same corrections delivered again the next day change nothing more; the orphan item
    # gets a newer version, still without its order.
    newer_orphan = {**orphan, "sku": new_sku, "updated_at": f"{days[4]}T00:00:01"}
    for entity, rows in corrections.items():
        extra = [newer_orphan] if entity == "items" else []
        write_correction(warehouse.landing, entity, days[4], rows + extra)
    plan.land(warehouse.landing, only=days[4])
    warehouse.run(days[4], days[4], lookback_days=0)
    rebuilt = make_warehouse(tmp_path / "rebuilt-2", landing=warehouse.landing, postgres=server)
    rebuilt.run(None, None, full_refresh=True)
    assert_equals_full_refresh(warehouse, rebuilt)

    # Withdrawn: the late price (both files re-sent without it) and the orphan's newer version.
    # The items it priced fall back to the first price; the orphan is held under its older one.
    for day in days[3:5]:
        write_correction(warehouse.landing, "products", day, [])
    without_orphan = [row for row in corrections["items"] if row["id"] != orphan["id"]]
    write_correction(warehouse.landing, "items", days[4], without_orphan)
    warehouse.run(days[3], days[4], lookback_days=0)
    rebuilt = make_warehouse(tmp_path / "rebuilt-3", landing=warehouse.landing, postgres=server)
    rebuilt.run(None, None, full_refresh=True)
    assert_equals_full_refresh(warehouse, rebuilt)
    assert warehouse.query(
        "select count(*) from analytics.fct_order_items where product_price = 1.23"
    ) == [(0,)], "a withdrawn price must leave the items it priced"
    held = warehouse.query(
        "select _source_file from analytics.quarantined_rows where row_key = 'orphan-item'"
    )
    assert held == [(f"items/dt={days[3]}/part-0001.csv",)], "held under its older version"
