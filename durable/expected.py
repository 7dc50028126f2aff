"""When a landed table's daily delivery is expected: its `expected` declaration (durable/overdue.py
says what is overdue)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

CLOCK_TIME = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])")


@dataclass(frozen=True)
class Expected:
    """When a table's delivery of day D is due: `by` (UTC) on D + `days_after`."""

    by: time
    days_after: int = 1

    def due_at(self, day: date) -> datetime:
        return datetime.combine(day + timedelta(days=self.days_after), self.by, UTC)


def parse_expected(value: object) -> Expected:
    """A declaration's `expected` block; ValueError saying what is wrong."""
    if not isinstance(value, dict) or "by" not in value:
        raise ValueError('must be a mapping with `by`, e.g. {by: "06:00", days_after: 1}')
    unknown = sorted(str(key) for key in value if key not in ("by", "days_after"))
    if unknown:
        raise ValueError(f"unknown key {unknown[0]!r} (known: by, days_after)")
    match = CLOCK_TIME.fullmatch(str(value["by"]))
    if match is None:
        raise ValueError(f"by is {value['by']!r}; expected a UTC time as HH:MM, e.g. '06:00'")
    days_after = value.get("days_after", 1)
    if not isinstance(days_after, int) or isinstance(days_after, bool) or days_after < 0:
        raise ValueError(f"days_after is {days_after!r}; expected a whole number of days >= 0")
    return Expected(time(int(match[1]), int(match[2])), days_after)
