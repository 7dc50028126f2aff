"""Which windows are due: the runner finds missing and late deliveries by itself.

A delivery is due when production does not hold it as landed (loaded or quarantined): a new day
since the last publish, a day that was skipped, or a file that landed (or was replaced) after its
day was published. Held and reported files (durable/landing/zone.py) are never due.
Due dates that follow one another are built together as one window (a catch-up after an
outage costs one audit copy, one dbt start-up and one test run, not one per day), at most
`DURABLE_BATCH_DAYS` days each, oldest first; the ledger still has a row for every day.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

from durable.config import Settings
from durable.errors import BadInput
from durable.landing.delivery import LandedFile
from durable.landing.zone import Finding, discover
from durable.sources import SourceTable, load_source_tables


def landing_zone(
    settings: Settings, tables: Sequence[SourceTable] | None = None
) -> tuple[list[LandedFile], list[Finding]]:
    """Every delivery of the settings' landing zone, oldest first, and its other paths."""
    return discover(
        settings.landing_dir,
        load_source_tables(settings.project_dir) if tables is None else tables,
        future_tolerance_days=settings.future_tolerance_days,
    )


def is_due(landed: LandedFile, published: dict[str, tuple]) -> bool:
    """Whether production does not hold this version of the file: `published` maps each file
    it holds to (size, mtime_ns, ...), as the publishers' `published_files` give it."""
    try:
        stat = landed.path.lstat()
    except OSError:
        return False  # gone since the scan: nothing to load
    held = published.get(landed.source_file)
    return held is None or tuple(held[:2]) != (stat.st_size, stat.st_mtime_ns)


def due_dates(deliveries: list[LandedFile], published: dict[str, tuple]) -> list[date]:
    """Delivery dates with a file production does not hold as landed."""
    return sorted({landed.delivery_date for landed in deliveries if is_due(landed, published)})


def batched(days: Sequence[date], most: int) -> list[tuple[date, date]]:
    """Windows of consecutive days, at most `most` days each, oldest first: a day missing from
    `days` ends a window, so no day that is not due is rebuilt."""
    windows: list[tuple[date, date]] = []
    for day in sorted(set(days)):
        if windows:
            start, end = windows[-1]
            if day == end + timedelta(days=1) and (day - start).days < most:
                windows[-1] = (start, day)
                continue
        windows.append((day, day))
    return windows


def days_of(windows: Sequence[tuple[date, date]]) -> list[date]:
    """Every day the windows cover."""
    return [
        start + timedelta(days=offset)
        for start, end in windows
        for offset in range((end - start).days + 1)
    ]


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
