"""Which windows are due: the runner finds missing and late deliveries by itself.

A delivery is due when production does not hold it as landed: a new day since the last publish,
a day that was skipped, or a file that landed (or was replaced) after its day was published.
Each due delivery date becomes a one-day window, oldest first.
"""

from __future__ import annotations

from datetime import date, timedelta

from durable.config import Settings
from durable.errors import BadInput
from durable.landing import discover
from durable.sources import load_source_tables


def due_dates(settings: Settings, published: dict[str, tuple[int, int]]) -> list[date]:
    tables = load_source_tables(settings.project_dir)
    due = set()
    for landed in discover(settings.landing_dir, tables):
        stat = landed.path.stat()
        if published.get(landed.source_file) != (stat.st_size, stat.st_mtime_ns):
            due.add(landed.delivery_date)
    return sorted(due)


def parse_day(text: str, name: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise BadInput(f"invalid {name} {text!r}: expected a date as YYYY-MM-DD") from None


def requested_windows(
    on: str | None, start: str | None, end: str | None
) -> list[tuple[date, date]] | None:
    """The windows asked for on the command line, or None when the runner should decide."""
    if on and (start or end):
        raise BadInput("give either --date or --start/--end, not both")
    if on:
        day = parse_day(on, "--date")
        return [(day, day)]
    if start or end:
        if not (start and end):
            raise BadInput("--start and --end go together")
        first, last = parse_day(start, "--start"), parse_day(end, "--end")
        if last < first:
            raise BadInput(f"--end {last} is before --start {first}")
        return [
            (first + timedelta(days=i), first + timedelta(days=i))
            for i in range((last - first).days + 1)
        ]
    return None
