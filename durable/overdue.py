"""Late deliveries, not only late data: expected deliveries that have not landed by their time.

A landed table (or its whole source) declares when each day's delivery is expected:

    meta: {durable: {expected: {by: "06:00", days_after: 1}}}

The delivery dated D is due by 06:00 UTC on D + days_after (1 when not given). From the table's
first delivery on, each day without a file once its time has passed is overdue, until a file for
it lands (a quarantined file has landed: the quarantine reports it). `durable status` lists what
is overdue; `durable run` alerts once per overdue delivery and goes on with the rest.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from durable.landing.delivery import LandedFile
from durable.sources import SourceTable


@dataclass(frozen=True)
class OverdueDelivery:
    source: str
    table: str
    day: date  # the delivery date that has no file
    due_at: datetime
    late_by: timedelta

    def payload(self) -> dict[str, object]:
        """What the alert hook hears of it."""
        return {
            "event": "delivery_overdue",
            "source": self.source,
            "table": self.table,
            "delivery_date": str(self.day),
            "due_at": self.due_at.isoformat(),
            "hours_late": round(self.late_by.total_seconds() / 3600, 1),
        }


def overdue_deliveries(
    tables: Iterable[SourceTable], deliveries: Iterable[LandedFile], now: datetime
) -> list[OverdueDelivery]:
    """Every expected delivery, from each table's first one to `now`, that has not landed."""
    landed: dict[tuple[str, str], set[date]] = {}
    for delivery in deliveries:
        landed.setdefault((delivery.source, delivery.entity), set()).add(delivery.delivery_date)
    overdue = []
    for table in tables:
        days = landed.get(table.key)
        if table.expected is None or not days:
            continue  # nothing landed yet: the first delivery starts the calendar
        day = min(days)
        while (due_at := table.expected.due_at(day)) < now:
            if day not in days:
                overdue.append(OverdueDelivery(table.source, table.name, day, due_at, now - due_at))
            day += timedelta(days=1)
    return overdue


def overdue_line(overdue: list[OverdueDelivery], shown: int = 3) -> str:
    """One line per table for the terminal: its overdue days, the oldest first."""
    by_table: dict[str, list[OverdueDelivery]] = {}
    for late in overdue:
        by_table.setdefault(f"{late.source}.{late.table}", []).append(late)
    parts = []
    for name, lates in by_table.items():
        days = ", ".join(str(late.day) for late in lates[:shown])
        more = f" and {len(lates) - shown} more up to {lates[-1].day}" if len(lates) > shown else ""
        parts.append(f"{name} {days}{more} (the oldest {_hours(lates[0].late_by)} late)")
    return "; ".join(parts) if parts else "none"


def _hours(late_by: timedelta) -> str:
    hours = late_by.total_seconds() / 3600
    return f"{hours:.1f} h" if hours < 48 else f"{hours / 24:.0f} days"
