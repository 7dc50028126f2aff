"""Bad input on demand: faults the pipeline must detect, quarantine or survive.

Unlike the everyday mess (late rows, duplicates, malformed rows fixed the next day), a fault is not
healed by the source: it is what the "bad input" tests are about. Each `Fault` says what to inject,
into which entity and on which delivery dates; the plan records every injection as an
`InjectedFault` (file and data-row number) so tests can assert on exactly what was done.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from jaffle_simulator.layout import COLUMNS, KEYS, Drift, FileSpec, Row


class FaultKind(StrEnum):
    MALFORMED_AMOUNT = "malformed_amount"  # non-numeric amount, e.g. '12,3O'
    MALFORMED_TIMESTAMP = "malformed_timestamp"  # e.g. '2018-13-45T25:00:00'
    MALFORMED_BOOLEAN = "malformed_boolean"  # supplies.perishable = 'maybe'
    MISSING_KEY = "missing_key"  # empty primary key
    CONFLICTING_DUPLICATE = "conflicting_duplicate"  # same key and updated_at, other values
    NEGATIVE_VALUE = "negative_value"  # negative amount or price
    FUTURE_DATE = "future_date"  # year 2099
    PAST_DATE = "past_date"  # year 2017, before the shop opened
    ORPHAN_ITEMS = "orphan_items"  # items whose order arrives `lag_days` later
    EMPTY_DELIVERY = "empty_delivery"  # header-only file; its rows arrive `lag_days` later
    MISSING_DELIVERY = "missing_delivery"  # no file; its rows arrive `lag_days` later
    TRUNCATED_FILE = "truncated_file"  # cut mid-way through the last row, no final newline
    LATIN1_FILE = "latin1_file"  # one non-ASCII value, file encoded latin-1 (invalid UTF-8)
    BOM_FILE = "bom_file"  # UTF-8 byte-order mark before the header
    COLUMN_ADDED = "column_added"
    COLUMN_DROPPED = "column_dropped"
    COLUMN_RENAMED = "column_renamed"
    COLUMN_RETYPED_TEXT = "column_retyped_text"  # amount in cents -> '12.50 USD'
    COLUMN_RETYPED_DECIMAL = "column_retyped_decimal"  # amount in cents -> '12.50' dollars


_AMOUNT = {"orders": "subtotal", "products": "price", "supplies": "cost"}
_TIMESTAMP = {e: "updated_at" for e in COLUMNS} | {"orders": "ordered_at", "stores": "opened_at"}
_KEY = {e: keys[0] for e, keys in KEYS.items()}
_CONFLICT = {
    "orders": "order_total",
    "customers": "name",
    "items": "sku",
    "products": "price",
    "stores": "tax_rate",
    "supplies": "cost",
}
_TEXT = {
    "customers": "name",
    "orders": "status",
    "items": "sku",
    "products": "name",
    "stores": "name",
    "supplies": "name",
}
_DROPPED = {
    "orders": "tax_paid",
    "customers": "name",
    "items": "sku",
    "products": "description",
    "stores": "tax_rate",
    "supplies": "perishable",
}
_RENAMED = {
    "subtotal": "sub_total",
    "name": "full_name",
    "sku": "product_sku",
    "price": "unit_price",
    "cost": "unit_cost",
    "tax_rate": "tax_pct",
}
# The column each kind touches by default, per entity it applies to.
DEFAULT_COLUMNS: dict[FaultKind, dict[str, str]] = {
    FaultKind.MALFORMED_AMOUNT: _AMOUNT,
    FaultKind.MALFORMED_TIMESTAMP: _TIMESTAMP,
    FaultKind.MALFORMED_BOOLEAN: {"supplies": "perishable"},
    FaultKind.MISSING_KEY: _KEY,
    FaultKind.CONFLICTING_DUPLICATE: _CONFLICT,
    FaultKind.NEGATIVE_VALUE: _AMOUNT,
    FaultKind.FUTURE_DATE: _TIMESTAMP,
    FaultKind.PAST_DATE: _TIMESTAMP,
    FaultKind.LATIN1_FILE: _TEXT,
    FaultKind.COLUMN_ADDED: {e: "channel" for e in COLUMNS},
    FaultKind.COLUMN_DROPPED: _DROPPED,
    FaultKind.COLUMN_RENAMED: {e: c for e, c in _CONFLICT.items() if c in _RENAMED}
    | {"orders": "subtotal"},
    FaultKind.COLUMN_RETYPED_TEXT: _AMOUNT,
    FaultKind.COLUMN_RETYPED_DECIMAL: _AMOUNT,
}
_DEFAULT_ENTITY = {FaultKind.MALFORMED_BOOLEAN: "supplies", FaultKind.ORPHAN_ITEMS: "items"}
_ROW_KINDS = {
    FaultKind.MALFORMED_AMOUNT,
    FaultKind.MALFORMED_TIMESTAMP,
    FaultKind.MALFORMED_BOOLEAN,
    FaultKind.MISSING_KEY,
    FaultKind.CONFLICTING_DUPLICATE,
    FaultKind.NEGATIVE_VALUE,
    FaultKind.FUTURE_DATE,
    FaultKind.PAST_DATE,
    FaultKind.LATIN1_FILE,
}


@dataclass(frozen=True)
class Fault:
    """One fault to inject.

    `on`..`through` are delivery dates (inclusive; `through` defaults to `on`, `on` to the
    entity's second delivery date, so the first load stays clean). Row-level kinds touch `rows`
    rows per file, or each row with probability `rate` when it is set. `column` overrides the
    default column.
    """

    kind: FaultKind
    entity: str | None = None
    on: date | None = None
    through: date | None = None
    column: str | None = None
    rows: int = 1
    rate: float | None = None
    lag_days: int = 1


@dataclass(frozen=True)
class Faults:
    """The faults of one plan; empty (the default) means clean input apart from the usual mess."""

    specs: tuple[Fault, ...] = ()

    @classmethod
    def of(cls, *kinds: FaultKind | str, **options: object) -> Faults:
        """`Faults.of("missing_key", "bom_file", on=date(2018, 9, 3))`: same options for each."""
        return cls(tuple(Fault(FaultKind(kind), **options) for kind in kinds))  # type: ignore[arg-type]


@dataclass(frozen=True)
class InjectedFault:
    """Where a fault landed. `row` counts data rows from 1 (None: the whole file)."""

    kind: str
    entity: str
    delivery_date: date
    file: str
    row: int | None
    column: str | None
    detail: str


@dataclass
class Pending:
    """An injection whose row number is known only once the files are in their final order."""

    kind: str
    entity: str
    day: date
    row: Row | None
    column: str | None
    detail: str
    last_row: bool = False  # truncated file: the row number is the file's row count


def _broken(kind: FaultKind, value: str) -> str:
    if kind is FaultKind.MALFORMED_AMOUNT:
        cents = int(value) if value.lstrip("-").isdigit() else 1230
        return f"{cents // 100},{cents % 100 // 10}O"
    if kind is FaultKind.MALFORMED_TIMESTAMP:
        return f"{value[:4]}-13-45T25:00:00"
    if kind is FaultKind.MALFORMED_BOOLEAN:
        return "maybe"
    if kind is FaultKind.MISSING_KEY:
        return ""
    if kind is FaultKind.NEGATIVE_VALUE:
        return f"-{value}" if value.isdigit() and value != "0" else "-100"
    if kind is FaultKind.FUTURE_DATE:
        return "2099" + value[4:]
    if kind is FaultKind.PAST_DATE:
        return "2017" + value[4:]
    if kind is FaultKind.LATIN1_FILE:
        return value.replace("e", "é", 1) if "e" in value else value + "é"
    raise AssertionError(kind)


def _conflicting(column: str, value: str) -> str:
    if value.isdigit():
        return str(int(value) + 100)
    if column == "sku":
        return "BEV-001" if value != "BEV-001" else "BEV-002"
    if column == "tax_rate":
        return "0.5"
    return value + " Jr."


class Injector:
    """Applies `Faults` to the planned files in place and collects `Pending` records."""

    def __init__(self, files: dict[tuple[str, date], FileSpec], seed: int, last: date) -> None:
        self.files = files
        self.seed = seed
        self.last = last
        self.pending: list[Pending] = []

    def file(self, entity: str, day: date) -> FileSpec:
        return self.files.setdefault((entity, day), FileSpec(entity, day))

    def apply(self, faults: Faults) -> list[Pending]:
        for number, spec in enumerate(faults.specs):
            kind = FaultKind(spec.kind)
            entity = spec.entity or _DEFAULT_ENTITY.get(kind, "orders")
            if entity not in COLUMNS:
                raise ValueError(f"fault {kind}: unknown entity {entity!r}")
            column = spec.column
            if column is None and kind in DEFAULT_COLUMNS:
                column = DEFAULT_COLUMNS[kind].get(entity)
                if column is None:
                    raise ValueError(f"fault {kind} does not apply to {entity}; pass column=...")
            days = sorted(d for e, d in self.files if e == entity)
            on = spec.on or (days[1] if len(days) > 1 else days[0] if days else self.last)
            rng = random.Random(f"{self.seed}:fault:{number}:{kind}")
            day = on
            while day <= (spec.through or on):
                self._apply_one(kind, spec, entity, column, day, rng)
                day += timedelta(days=1)
        return self.pending

    def _apply_one(
        self,
        kind: FaultKind,
        spec: Fault,
        entity: str,
        column: str | None,
        day: date,
        rng: random.Random,
    ) -> None:
        existing = self.files.get((entity, day))
        if kind in _ROW_KINDS:
            assert column is not None
            if existing is not None:
                self._rows(kind, spec, existing, column, rng)
        elif kind is FaultKind.ORPHAN_ITEMS:
            if existing is not None:
                self._orphans(spec, existing, rng)
        elif kind in (FaultKind.EMPTY_DELIVERY, FaultKind.MISSING_DELIVERY):
            self._hold_back(kind, spec, entity, day)
        elif existing is None:
            return
        elif kind is FaultKind.TRUNCATED_FILE:
            if existing.rows:
                existing.truncate = True
                self.pending.append(
                    Pending(kind, entity, day, None, None, "cut mid-row", last_row=True)
                )
        elif kind is FaultKind.BOM_FILE:
            existing.bom = True
            self.pending.append(Pending(kind, entity, day, None, None, "UTF-8 BOM"))
        else:
            assert column is not None
            new_name = column if kind is FaultKind.COLUMN_ADDED else _RENAMED.get(column, "")
            if kind is FaultKind.COLUMN_RENAMED and not new_name:
                new_name = f"{column}_renamed"
            existing.drifts.append(Drift(str(kind), column, new_name))
            detail = {
                FaultKind.COLUMN_ADDED: f"column {column!r} added at the end",
                FaultKind.COLUMN_DROPPED: f"column {column!r} dropped",
                FaultKind.COLUMN_RENAMED: f"column {column!r} renamed to {new_name!r}",
                FaultKind.COLUMN_RETYPED_TEXT: f"column {column!r} as text like '12.50 USD'",
                FaultKind.COLUMN_RETYPED_DECIMAL: f"column {column!r} as decimal dollars",
            }[kind]
            self.pending.append(Pending(kind, entity, day, None, column, detail))

    def _pick(self, spec: Fault, rows: list[Row], rng: random.Random) -> list[Row]:
        pool = [row for row in rows if row.role == "original" and row.fault is None]
        if spec.rate is not None:
            return [row for row in pool if rng.random() < spec.rate]
        return sorted(rng.sample(pool, min(spec.rows, len(pool))), key=pool.index)

    def _rows(
        self, kind: FaultKind, spec: Fault, file: FileSpec, column: str, rng: random.Random
    ) -> None:
        index = COLUMNS[file.entity].index(column)
        for row in self._pick(spec, file.rows, rng):
            if kind is FaultKind.CONFLICTING_DUPLICATE:
                values = list(row.values)
                values[index] = _conflicting(column, values[index])
                copy = Row(values, row.updated, (*row.sort_key, 1), "conflict", fault=str(kind))
                file.rows.insert(file.rows.index(row) + 1, copy)
                detail = f"{column} {row.values[index]!r} vs {values[index]!r}"
                self.pending.append(Pending(kind, file.entity, file.day, copy, column, detail))
                continue
            before = row.values[index]
            row.values[index] = _broken(kind, before)
            row.fault = str(kind)
            if kind is FaultKind.LATIN1_FILE:
                file.encoding = "latin-1"
            detail = f"{before!r} -> {row.values[index]!r}"
            self.pending.append(Pending(kind, file.entity, file.day, row, column, detail))

    def _orphans(self, spec: Fault, items: FileSpec, rng: random.Random) -> None:
        """Hold back the orders of some of the day's items by `lag_days` days."""
        orders = self.files.get(("orders", items.day))
        on_day = {row.values[0] for row in orders.rows} if orders else set()
        # Only orders first delivered that day: one delivered before is no orphan's parent.
        earlier = {
            row.values[0]
            for (entity, day), spec in self.files.items()
            if entity == "orders" and day < items.day
            for row in spec.rows
        }
        candidates = sorted({row.values[1] for row in items.rows} & (on_day - earlier))
        arrival = items.day + timedelta(days=spec.lag_days)
        for order_id in rng.sample(candidates, min(spec.rows, len(candidates))):
            for offset in range(spec.lag_days):
                held = self.files.get(("orders", items.day + timedelta(days=offset)))
                if held is None:
                    continue
                moved = [row for row in held.rows if row.values[0] == order_id]
                held.rows = [row for row in held.rows if row.values[0] != order_id]
                if arrival <= self.last:
                    self.file("orders", arrival).rows.extend(moved)
            for row in items.rows:
                if row.values[1] == order_id:
                    row.fault = str(FaultKind.ORPHAN_ITEMS)
                    detail = f"order {order_id} delivered on {arrival.isoformat()}"
                    if arrival > self.last:
                        detail = f"order {order_id} never delivered (after the last day)"
                    self.pending.append(
                        Pending(FaultKind.ORPHAN_ITEMS, "items", items.day, row, "order_id", detail)
                    )

    def _hold_back(self, kind: FaultKind, spec: Fault, entity: str, day: date) -> None:
        """Empty or missing delivery: the day's rows arrive `lag_days` later instead."""
        file = self.files.get((entity, day))
        rows = file.rows if file else []
        arrival = day + timedelta(days=spec.lag_days)
        if rows and arrival <= self.last:
            self.file(entity, arrival).rows.extend(rows)
        if kind is FaultKind.MISSING_DELIVERY:
            self.files.pop((entity, day), None)
        else:
            self.file(entity, day).rows = []
        where = f"delivered on {arrival.isoformat()}" if arrival <= self.last else "never delivered"
        self.pending.append(Pending(kind, entity, day, None, None, f"{len(rows)} rows {where}"))
