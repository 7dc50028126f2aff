"""The delivery plan: which row versions land in which daily file, and why.

A source system does not hand over tidy tables: it sends each day the rows that changed, some of
them late, some twice, some broken. `DeliveryPlan.build` turns one deterministic jafgen run into
such daily deliveries, so the pipeline's deduplication, late-arrival lookback and quarantine can be
tested against known answers (`stats`, `faults`). All randomness comes from `random.Random`
instances seeded with (seed, purpose), so a plan is a pure function of its arguments.

Versions whose delivery date falls after the last simulated day are not delivered (counted in
`undelivered`): e.g. orders placed on the last day are delivered as `placed` but never `completed`.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

from jaffle_simulator import source
from jaffle_simulator.faults import Faults, InjectedFault, Injector
from jaffle_simulator.layout import (
    COLUMNS,
    KEYS,
    REPLICATED_ID_COLUMNS,
    TIMESTAMP_FORMAT,
    FileSpec,
    Row,
    relative_path,
    render,
    write_atomically,
)

FIRST_DAY = date(2018, 9, 1)  # jafgen's day 0


@dataclass(frozen=True)
class Rates:
    """How messy the everyday deliveries are (probabilities per row version unless noted)."""

    late: float = 0.05  # version arrives 1..max_late_days after its updated_at day
    max_late_days: int = 3  # the pipeline's lookback; no row is ever later than this
    late_items: float = 0.03  # item arrives the day after its order's first delivery
    duplicate_in_file: float = 0.02  # row appears twice in the same file
    resent: float = 0.01  # row re-sent unchanged in the next day's file
    customer_renamed: float = 0.03  # customer changes name on a later day
    product_price_changes: int = 3  # number of price changes across all products
    malformed_orders: float = 0.003  # order row broken once, fixed in the next day's file
    returned: float = 0.03  # completed order later returned
    deleted_orders: int = 2  # orders a week the source deletes (with their items) after the fact


@dataclass(frozen=True)
class DeliveryStats:
    """Counts for one delivery file (replicas included). Mess only: faults are listed apart.

    rows: data rows. duplicates_in_file: extra identical copies. resent: rows identical to one in
    the previous day's file. late: first correct deliveries after their updated_at day (fixes of
    malformed rows included). corrections: customer renames and product price changes among
    those. malformed: rows with a broken value whose fix comes the next day. deleted: deletes of
    a key (the file then carries the `is_deleted` column).
    """

    rows: int = 0
    duplicates_in_file: int = 0
    resent: int = 0
    late: int = 0
    corrections: int = 0
    malformed: int = 0
    deleted: int = 0


def _ts(moment: datetime) -> str:
    return moment.strftime(TIMESTAMP_FORMAT)


@dataclass
class _Builder:
    """Mutable state while building: files by (entity, day) and not-delivered counts."""

    seed: int
    start: date
    last: date
    rates: Rates
    files: dict[tuple[str, date], FileSpec] = field(default_factory=dict)
    undelivered: Counter[str] = field(default_factory=Counter)

    def rng(self, purpose: str) -> random.Random:
        return random.Random(f"{self.seed}:{purpose}")

    def lag(self, rng: random.Random) -> int:
        if rng.random() < self.rates.late:
            return rng.randint(1, self.rates.max_late_days)
        return 0

    def deliver(self, entity: str, row: Row, day: date) -> None:
        if day > self.last:
            self.undelivered[entity] += 1
            return
        spec = self.files.setdefault((entity, day), FileSpec(entity, day))
        spec.rows.append(row)

    def version(
        self, entity: str, values: list[str], at: datetime, day: date, correction: bool = False
    ) -> None:
        """Deliver one row version (values end with updated_at) on `day`."""
        key = tuple(values[COLUMNS[entity].index(k)] for k in KEYS[entity])
        self.deliver(
            entity, Row(values, at.date(), (values[-1], key, 0), correction=correction), day
        )


def _orders(b: _Builder, orders: list[dict[str, str]]) -> dict[str, date]:
    """Status lifecycle, CDC by day: one version per order and day, its state at the end of it.

    Returns each order's first delivery date, which its items follow.
    """
    rng = b.rng("orders")
    first: dict[str, date] = {}
    for order in orders:
        placed = datetime.fromisoformat(order["ordered_at"])
        shipped = placed + timedelta(seconds=rng.randint(2 * 3600, 10 * 3600))
        completed = shipped + timedelta(seconds=rng.randint(24 * 3600, 48 * 3600))
        versions = [("placed", placed), ("shipped", shipped), ("completed", completed)]
        if rng.random() < b.rates.returned:
            returned = completed + timedelta(seconds=rng.randint(2 * 86400, 6 * 86400))
            versions.append(("returned", returned))
        end_of_day = {moment.date(): (status, moment) for status, moment in versions}
        base = [order[c] for c in COLUMNS["orders"][:7]]
        for status, moment in end_of_day.values():
            day = moment.date() + timedelta(days=b.lag(rng))
            first.setdefault(order["id"], day)
            b.version("orders", [*base, status, _ts(moment)], moment, day)
    return first


def _items(
    b: _Builder, items: list[dict[str, str]], orders: list[dict[str, str]], first: dict[str, date]
) -> None:
    """Items travel with their order's first delivery; a few a day later (orphans meanwhile)."""
    rng = b.rng("items")
    placed = {o["id"]: datetime.fromisoformat(o["ordered_at"]) for o in orders}
    for item in items:
        moment = placed[item["order_id"]]
        extra = 1 if rng.random() < b.rates.late_items else 0
        latest = moment.date() + timedelta(days=b.rates.max_late_days)
        day = min(first[item["order_id"]] + timedelta(days=extra), latest)
        b.version("items", [item["id"], item["order_id"], item["sku"], _ts(moment)], moment, day)


def _customers(b: _Builder, customers: list[dict[str, str]], orders: list[dict[str, str]]) -> None:
    """A customer appears with their first order; a few change name on a later day."""
    rng = b.rng("customers")
    first: dict[str, datetime] = {}
    for order in orders:
        moment = datetime.fromisoformat(order["ordered_at"])
        if order["customer"] not in first or moment < first[order["customer"]]:
            first[order["customer"]] = moment
    surnames = sorted({c["name"].split()[-1] for c in customers})
    for customer in customers:
        moment = first[customer["id"]]
        day = moment.date() + timedelta(days=b.lag(rng))
        b.version("customers", [customer["id"], customer["name"], _ts(moment)], moment, day)
        if rng.random() < b.rates.customer_renamed:
            renamed = moment + timedelta(seconds=rng.randint(86400, 30 * 86400))
            parts = customer["name"].split()
            parts[-1] = rng.choice([s for s in surnames if s != parts[-1]] or ["Renamed"])
            day = renamed.date() + timedelta(days=b.lag(rng))
            b.version(
                "customers", [customer["id"], " ".join(parts), _ts(renamed)], renamed, day, True
            )


def _reference(b: _Builder, tables: source.RawTables) -> None:
    """Products and supplies in full on day one, stores on their opening day, price changes."""
    midnight = datetime.combine(b.start, datetime.min.time())
    for entity in ("products", "supplies"):
        for row in tables[entity]:
            b.version(
                entity, [row[c] for c in COLUMNS[entity][:-1]] + [_ts(midnight)], midnight, b.start
            )
    rng = b.rng("stores")
    for store in tables["stores"]:
        moment = max(datetime.fromisoformat(store["opened_at"]), midnight)
        values = [store[c] for c in COLUMNS["stores"][:-1]] + [_ts(moment)]
        b.version("stores", values, moment, moment.date() + timedelta(days=b.lag(rng)))
    rng = b.rng("products")
    span = (b.last - b.start).days
    products = {p["sku"]: dict(p) for p in tables["products"]}
    changes = []
    for _ in range(b.rates.product_price_changes if span > 0 else 0):
        seconds = rng.randint(86400, (span + 1) * 86400 - 1)
        changes.append((midnight + timedelta(seconds=seconds), rng.choice(sorted(products))))
    for moment, sku in sorted(changes):
        product = products[sku]
        product["price"] = str(max(100, int(product["price"]) + rng.choice((-100, -50, 50, 100))))
        values = [product[c] for c in COLUMNS["products"][:-1]] + [_ts(moment)]
        b.version("products", values, moment, moment.date() + timedelta(days=b.lag(rng)), True)


def _deletes(b: _Builder, items: list[dict[str, str]]) -> None:
    """Each week a few orders are deleted by the source after their last change, their items with
    them: a delete row per key (key and updated_at only) in the day's files."""
    rng = b.rng("deletes")
    latest: dict[str, datetime] = {}
    for (entity, _), spec in b.files.items():
        if entity == "orders":
            for row in spec.rows:
                moment = datetime.fromisoformat(row.values[-1])
                if row.role == "original" and moment > latest.get(row.values[0], moment.min):
                    latest[row.values[0]] = moment
    items_of: dict[str, list[str]] = {}
    for item in items:
        items_of.setdefault(item["order_id"], []).append(item["id"])
    weeks: dict[int, list[str]] = {}
    for order, moment in sorted(latest.items()):
        weeks.setdefault((moment.date() - b.start).days // 7, []).append(order)
    for _, orders in sorted(weeks.items()):
        for order in rng.sample(orders, min(b.rates.deleted_orders, len(orders))):
            moment = latest[order] + timedelta(seconds=rng.randint(3600, 12 * 3600))
            for entity, key in [("orders", order)] + [
                ("items", i) for i in items_of.get(order, [])
            ]:
                values = [key] + [""] * (len(COLUMNS[entity]) - 2) + [_ts(moment)]
                b.deliver(
                    entity,
                    Row(values, moment.date(), (values[-1], (key,), 0), "delete"),
                    moment.date(),
                )


def _malformed(b: _Builder) -> None:
    """Break a few on-time order rows; the correct row follows the next day (same updated_at)."""
    rng = b.rng("malformed")
    subtotal, ordered_at = (
        COLUMNS["orders"].index("subtotal"),
        COLUMNS["orders"].index("ordered_at"),
    )
    for (entity, day), spec in sorted(b.files.items()):
        if entity != "orders" or day >= b.last:
            continue
        for row in spec.rows:
            if (
                row.role != "original"
                or row.updated != day
                or rng.random() >= b.rates.malformed_orders
            ):
                continue
            fix = Row(list(row.values), row.updated, row.sort_key, "fix")
            b.deliver("orders", fix, day + timedelta(days=1))
            row.role = "malformed"
            if rng.random() < 0.5:
                cents = int(row.values[subtotal])
                row.values[subtotal] = f"{cents // 100},{cents % 100 // 10}O"
            else:
                row.values[ordered_at] = f"{row.values[ordered_at][:4]}-13-45T25:00:00"


def _copies(b: _Builder) -> None:
    """Duplicates within a file and re-sends of a row in the next day's file."""
    rng = b.rng("copies")
    for (entity, day), spec in sorted(b.files.items()):
        for row in list(spec.rows):
            if row.role != "original":
                continue
            if rng.random() < b.rates.duplicate_in_file:
                spec.rows.append(
                    Row(list(row.values), row.updated, (*row.sort_key, 1), "duplicate")
                )
            late = (day - row.updated).days
            resend = rng.random() < b.rates.resent
            if resend and late < b.rates.max_late_days and day < b.last:
                copy = Row(list(row.values), row.updated, row.sort_key, "resent")
                b.deliver(entity, copy, day + timedelta(days=1))


@dataclass
class DeliveryPlan:
    """Daily deliveries of one simulated source, ready to land; see the module docstring."""

    seed: int
    days: int
    start: date
    scale: int
    rates: Rates
    files: dict[tuple[str, date], FileSpec]
    faults: list[InjectedFault]
    undelivered: dict[str, int]
    stats: dict[tuple[str, date], DeliveryStats]

    @classmethod
    def build(
        cls,
        seed: int = 42,
        days: int = 90,
        start: date = FIRST_DAY,
        faults: Faults | None = None,
        scale: int = 1,
        cache_dir: Path = source.DEFAULT_CACHE_DIR,
        rates: Rates | None = None,
    ) -> DeliveryPlan:
        """Run (or reuse) jafgen for `days` days and plan every delivery. `start` relabels day 0."""
        if days < 1 or scale < 1:
            raise ValueError(f"days ({days}) and scale ({scale}) must be at least 1")
        tables = source.load(seed, days, Path(cache_dir))
        if start != FIRST_DAY:
            tables = _shift(tables, start - FIRST_DAY)
        rates = rates or Rates()
        b = _Builder(seed, start, start + timedelta(days=days - 1), rates)
        _reference(b, tables)
        _customers(b, tables["customers"], tables["orders"])
        first_delivery = _orders(b, tables["orders"])
        _items(b, tables["items"], tables["orders"], first_delivery)
        _deletes(b, tables["items"])
        _malformed(b)
        _copies(b)
        for spec in b.files.values():
            spec.rows.sort(key=lambda row: row.sort_key)
        pending = Injector(b.files, seed, b.last).apply(faults or Faults())
        files = dict(sorted(b.files.items()))
        for spec in files.values():
            spec.rows.sort(key=lambda row: row.sort_key)
        stats = {key: _stats(spec, scale) for key, spec in files.items()}
        where = {
            id(row): (key, i + 1) for key, spec in files.items() for i, row in enumerate(spec.rows)
        }
        injected = []
        for p in pending:
            key, number = (p.entity, p.day), None
            if p.row is not None:
                key, number = where[id(p.row)]
            elif p.last_row:
                number = stats[key].rows
            injected.append(
                InjectedFault(
                    p.kind, key[0], key[1], relative_path(*key), number, p.column, p.detail
                )
            )
        return cls(seed, days, start, scale, rates, files, injected, dict(b.undelivered), stats)

    @property
    def delivery_dates(self) -> list[date]:
        """Every simulated day, first to last (an entity may have no file on some of them)."""
        return [self.start + timedelta(days=i) for i in range(self.days)]

    def land(
        self, landing_dir: Path, through: date | None = None, only: date | None = None
    ) -> list[Path]:
        """Write the deliveries dated <= `through` (or exactly `only`); return the files written.

        Idempotent: files already holding the same bytes are left alone (mtime kept); each write is
        atomic. Never deletes anything.
        """
        written = []
        for (entity, day), spec in self.files.items():
            if (only is not None and day != only) or (through is not None and day > through):
                continue
            path = Path(landing_dir) / relative_path(entity, day)
            if write_atomically(path, render(spec, self.scale)):
                written.append(path)
        return written

    def manifest(self) -> dict[str, object]:
        """JSON-ready summary: parameters, per-file stats, injected faults, undelivered versions."""
        return {
            "seed": self.seed,
            "days": self.days,
            "start": self.start.isoformat(),
            "scale": self.scale,
            "rates": asdict(self.rates),
            "files": [
                {
                    "entity": e,
                    "delivery_date": d.isoformat(),
                    "file": relative_path(e, d),
                    **asdict(s),
                }
                for (e, d), s in self.stats.items()
            ],
            "faults": [
                asdict(f) | {"delivery_date": f.delivery_date.isoformat()} for f in self.faults
            ],
            "undelivered": self.undelivered,
        }

    def write_manifest(self, path: Path) -> None:
        """Write the manifest as JSON; keep it outside the landing dir, which the loader scans."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(path, (json.dumps(self.manifest(), indent=2) + "\n").encode())


def _stats(spec: FileSpec, scale: int) -> DeliveryStats:
    copies = scale if spec.entity in REPLICATED_ID_COLUMNS else 1
    counts: Counter[str] = Counter()
    for row in spec.rows:
        n = copies if row.fault is None else 1
        counts["rows"] += n
        counts[row.role] += n
        if row.role in ("original", "fix"):
            counts["late"] += n if spec.day > row.updated else 0
            counts["corrections"] += n if row.correction else 0
    return DeliveryStats(
        rows=counts["rows"],
        duplicates_in_file=counts["duplicate"],
        resent=counts["resent"],
        late=counts["late"],
        corrections=counts["corrections"],
        malformed=counts["malformed"],
        deleted=counts["delete"],
    )


def _shift(tables: source.RawTables, delta: timedelta) -> source.RawTables:
    """Move jafgen's timestamps by `delta` so the simulation can start on another date."""
    shifted = {entity: [dict(row) for row in rows] for entity, rows in tables.items()}
    for entity, column in (("orders", "ordered_at"), ("stores", "opened_at")):
        for row in shifted[entity]:
            row[column] = _ts(datetime.fromisoformat(row[column]) + delta)
    return shifted
