"""Delivery histories told as stories: a few days of real rows and the events that mess them up.

A history is a small base of real Jaffle Shop rows (the simulator's first days, without its own
mess) and a list of events, each dated by the delivery day it happens on: late rows, duplicates,
corrections, key moves, deletes, malformed rows, withdrawals and re-sends. `History.deliveries`
turns that into the files written each day, as a source system would write them; each event's
repr is one line of the story, so a shrunk failing history reads as what was delivered when.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import ClassVar

from jaffle_simulator import COLUMNS, KEYS, DeliveryPlan, Rates, relative_path

# The simulator without its own mess: the events below are the only mess, so a story is complete.
CLEAN = Rates(
    late=0,
    late_items=0,
    duplicate_in_file=0,
    resent=0,
    customer_renamed=0,
    product_price_changes=0,
    malformed_orders=0,
    returned=0,
    deleted_orders=0,
)
# Short names in the story instead of uuids: "order o3" reads better than a 36-character id.
PREFIX = {"orders": "o", "items": "i", "customers": "c", "stores": "s"}
SINGULAR = {
    "customers": "customer",
    "orders": "order",
    "items": "item",
    "products": "product",
    "stores": "store",
    "supplies": "supply",
}

Key = tuple[str, ...]


def timestamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S")


@dataclass(frozen=True, eq=False)
class Row:
    """One delivered line: its values as text, and whether it marks its key deleted."""

    entity: str
    values: Mapping[str, str]
    deleted: bool = False
    malformed: bool = False  # fails a type or range check: quarantined, never loaded

    @property
    def key(self) -> Key:
        return tuple(self.values[column] for column in KEYS[self.entity])

    @property
    def updated_at(self) -> str:
        return self.values["updated_at"]

    @property
    def version(self) -> tuple[str, Key, str]:
        return self.entity, self.key, self.updated_at

    def with_values(self, **changes: str) -> Row:
        return Row(self.entity, {**self.values, **changes})


@dataclass(frozen=True)
class Base:
    """Real row versions, each delivered on the day of its updated_at unless an event says not."""

    days: tuple[date, ...]
    rows: tuple[Row, ...]
    labels: Mapping[tuple[str, Key], str]

    @classmethod
    def from_simulator(
        cls, days: tuple[date, ...], orders_per_day: int, cache_dir: Path, seed: int = 5
    ) -> Base:
        """The first `orders_per_day` orders placed each day, their items and customers; every
        product, supply and store. Few keys keep a story short; the runs cost the same."""
        plan = DeliveryPlan.build(
            seed=seed, days=len(days), start=days[0], cache_dir=cache_dir, rates=CLEAN
        )
        versions = [
            Row(entity, dict(zip(COLUMNS[entity], row.values, strict=True)))
            for (entity, _), spec in plan.files.items()
            for row in spec.rows
        ]
        placed_at = {
            r.values["id"]: r.values["ordered_at"] for r in versions if r.entity == "orders"
        }
        by_day: dict[date, list[str]] = {}
        for order, at in sorted(placed_at.items(), key=lambda item: item[1]):
            by_day.setdefault(datetime.fromisoformat(at).date(), []).append(order)
        chosen = {order for orders in by_day.values() for order in orders[:orders_per_day]}
        orders = [r for r in versions if r.entity == "orders" and r.values["id"] in chosen]
        customers = {r.values["customer"] for r in orders}
        kept = [
            row
            for row in versions
            if row.entity in ("products", "supplies", "stores")
            or (row.entity == "orders" and row.values["id"] in chosen)
            or (row.entity == "items" and row.values["order_id"] in chosen)
            or (row.entity == "customers" and row.values["id"] in customers)
        ]
        labels: dict[tuple[str, Key], str] = {}
        for row in kept:
            prefix = PREFIX.get(row.entity)
            if (row.entity, row.key) not in labels:
                count = sum(1 for entity, _ in labels if entity == row.entity)
                name = f"{prefix}{count + 1}" if prefix else "/".join(row.key)
                labels[row.entity, row.key] = name
        return cls(days, tuple(kept), labels)

    def label(self, entity: str, key: Key) -> str:
        return f"{SINGULAR[entity]} {self.labels.get((entity, key), '/'.join(key))}"

    def keys(self, entity: str) -> list[Key]:
        return list(dict.fromkeys(row.key for row in self.rows if row.entity == entity))

    def versions(self, entity: str) -> list[Row]:
        return [row for row in self.rows if row.entity == entity]

    def values(self, entity: str, column: str) -> list[str]:
        return sorted({row.values[column] for row in self.rows if row.entity == entity})

    def day_of(self, row: Row) -> date:
        """The day a version is delivered on when nothing happens to it: its updated_at's."""
        return max(datetime.fromisoformat(row.updated_at).date(), self.days[0])


# --- events: each is one line of the story ----------------------------------------------------


@dataclass(frozen=True)
class Event:
    day: date  # the delivery day it happens on
    kind: ClassVar[str]

    def __repr__(self) -> str:
        return f"day {self.day}: {self.story()}"

    def story(self) -> str:
        raise NotImplementedError


@dataclass(frozen=True, repr=False)
class Deliver(Event):
    """One row added to the entity's file of the day."""

    row: Row
    label: str

    def late(self) -> str:
        days = (self.day - datetime.fromisoformat(self.row.updated_at).date()).days
        return f", {days} day{'s' * (days != 1)} late" if days > 0 else ""


@dataclass(frozen=True, repr=False)
class Late(Deliver):
    """A real version held back from its day's file and delivered later."""

    kind: ClassVar[str] = "late"

    def story(self) -> str:
        return f"{self.label} as of {self.row.updated_at} arrives{self.late()}"


@dataclass(frozen=True, repr=False)
class Duplicate(Deliver):
    """A version delivered again, in the same file or a later one."""

    kind: ClassVar[str] = "duplicate"

    def story(self) -> str:
        return f"{self.row.entity} file repeats {self.label} as of {self.row.updated_at}"


@dataclass(frozen=True, repr=False)
class Correction(Deliver):
    """A new version of a key: some mutable columns changed, a new updated_at."""

    kind: ClassVar[str] = "correction"
    changed: tuple[str, ...] = ()

    def story(self) -> str:
        change = ", ".join(f"{c} = {self.row.values[c]!r}" for c in self.changed)
        return f"{self.label} corrected: {change} as of {self.row.updated_at}{self.late()}"


@dataclass(frozen=True, repr=False)
class KeyMove(Correction):
    """A correction that moves a row to another group: an order's day or month, an item's order
    or product. Incremental models keyed on the group must update the old one too."""

    kind: ClassVar[str] = "key move"
    before: str = ""  # the column's old and new value as the story shows them
    after: str = ""

    def story(self) -> str:
        (column,) = self.changed
        return (
            f"{self.label} moved: {column} {self.before} -> {self.after} "
            f"as of {self.row.updated_at}{self.late()}"
        )


@dataclass(frozen=True, repr=False)
class Delete(Deliver):
    """A delete marker: the key is gone as of the row's updated_at."""

    kind: ClassVar[str] = "delete"

    def story(self) -> str:
        return f"{self.label} deleted as of {self.row.updated_at}{self.late()}"


@dataclass(frozen=True, repr=False)
class Malformed(Deliver):
    """A row with a value that fails its column's check: quarantined, never loaded."""

    kind: ClassVar[str] = "malformed"
    column: str = ""

    def story(self) -> str:
        value = self.row.values[self.column]
        return f"{self.row.entity} file carries {self.label} with {self.column} = {value!r}"


@dataclass(frozen=True, repr=False)
class Withdrawal(Event):
    """An earlier day's file re-sent without some of its keys' rows."""

    kind: ClassVar[str] = "withdrawal"
    entity: str
    file_day: date
    keys: tuple[Key, ...]
    labels: tuple[str, ...]

    def story(self) -> str:
        return f"{self.entity} file of {self.file_day} re-sent without {', '.join(self.labels)}"


@dataclass(frozen=True, repr=False)
class Resend(Event):
    """Every file of an earlier day re-sent unchanged."""

    kind: ClassVar[str] = "re-send"
    file_day: date

    def story(self) -> str:
        return f"every file of {self.file_day} re-sent unchanged"


# --- from a history to files -------------------------------------------------------------------

File = tuple[str, date]  # (entity, delivery date): one part-0000.csv


@dataclass(frozen=True)
class History:
    base: Base
    events: tuple[Event, ...]  # in the order they happen (by day, then as drawn)

    def story(self) -> str:
        return "\n".join(map(repr, self.events)) or "no events: the base rows on their days"

    def __repr__(self) -> str:  # what Hypothesis prints of a failing example: the story
        return f"History(\n{self.story()}\n)"

    def deliveries(self) -> dict[date, dict[File, list[Row]]]:
        """The files written on each day, with their content: the day's own files, and the
        earlier files withdrawn from or re-sent that day."""
        held = {e.row.version for e in self.events if isinstance(e, Late)}
        content: dict[File, list[Row]] = {}
        written: dict[date, dict[File, list[Row]]] = {}
        for day in self.base.days:
            touched: set[File] = set()
            for row in self.base.rows:
                if self.base.day_of(row) == day and row.version not in held:
                    content.setdefault((row.entity, day), []).append(row)
                    touched.add((row.entity, day))
            for event in (e for e in self.events if e.day == day):
                if isinstance(event, Deliver):
                    content.setdefault((event.row.entity, day), []).append(event.row)
                    touched.add((event.row.entity, day))
                elif isinstance(event, Withdrawal) and (event.entity, event.file_day) in content:
                    file = (event.entity, event.file_day)
                    content[file] = [r for r in content[file] if r.key not in event.keys]
                    touched.add(file)
                elif isinstance(event, Resend):
                    touched |= {file for file in content if file[1] == event.file_day}
            written[day] = {file: list(content[file]) for file in sorted(touched)}
        return written

    def final_files(self) -> dict[File, list[Row]]:
        """What the landing zone holds after the last day."""
        final: dict[File, list[Row]] = {}
        for files in self.deliveries().values():
            final.update(files)
        return final


def render(entity: str, rows: list[Row], delete_marker: str) -> bytes:
    """A CSV file; with the delete-marker column only when a row of it deletes."""
    header = list(COLUMNS[entity])
    marking = any(row.deleted for row in rows)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([*header, delete_marker] if marking else header)
    for row in rows:
        values = [row.values.get(column, "") for column in header]
        writer.writerow([*values, "true" if row.deleted else "false"] if marking else values)
    return buffer.getvalue().encode()


def write_day(landing: Path, files: Mapping[File, list[Row]], delete_marker: str) -> list[str]:
    """Write one day's files; a re-sent file gets a new mtime even when its bytes are the same,
    as a source system's re-send would. Returns their paths, relative to the landing zone."""
    paths = []
    for (entity, day), rows in files.items():
        path = landing / relative_path(entity, day)
        path.parent.mkdir(parents=True, exist_ok=True)
        existed = path.exists()
        before = path.stat().st_mtime_ns if existed else 0
        path.write_bytes(render(entity, rows, delete_marker))
        if existed and path.stat().st_mtime_ns <= before:  # a coarse clock: make it newer
            os.utime(path, ns=(before + 1_000_000, before + 1_000_000))
        paths.append(relative_path(entity, day))
    return paths


def quarantined(rows: list[Row]) -> list[bool]:
    """Which rows of one file the base models reject: the malformed ones, and every row of a
    conflicting duplicate (one key and updated_at twice in the file with other values)."""
    versions: dict[tuple[Key, str], set[tuple[tuple[str, str], ...]]] = {}
    for row in rows:
        values = (*sorted(row.values.items()), ("deleted", str(row.deleted)))
        versions.setdefault((row.key, row.updated_at), set()).add(values)
    return [row.malformed or len(versions[row.key, row.updated_at]) > 1 for row in rows]


def deleted_keys(files: Mapping[File, list[Row]]) -> dict[str, set[Key]]:
    """Keys whose newest valid row in the landing zone is a delete marker (a tie with an upsert
    is left out: which wins is not defined by the delivery format)."""
    newest: dict[tuple[str, Key], tuple[str, set[bool]]] = {}
    for file_rows in files.values():
        rows = [row for row, bad in zip(file_rows, quarantined(file_rows), strict=True) if not bad]
        for row in rows:
            at, kinds = newest.get((row.entity, row.key), ("", set()))
            if row.updated_at > at:
                newest[row.entity, row.key] = (row.updated_at, {row.deleted})
            elif row.updated_at == at:
                kinds.add(row.deleted)
    deleted: dict[str, set[Key]] = {}
    for (entity, key), (_, kinds) in newest.items():
        if kinds == {True}:
            deleted.setdefault(entity, set()).add(key)
    return deleted


def moment(day: date, seconds: int) -> str:
    return timestamp(datetime.combine(day, datetime.min.time()) + timedelta(seconds=seconds))
