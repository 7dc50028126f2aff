"""What lies in the landing zone: deliveries to load, and every other file, each with a reason.

A delivery is `<landing>/<entity>/dt=YYYY-MM-DD/<name>.csv` (or `.csv.gz`, any case), where
`<entity>` is a declared source table and `<name>` is letters, digits, `.`, `_` and `-`. Every
other path under the landing zone is a finding, never an error: a source system that writes a
stray file, a folder with an impossible date or a symlink must not stop the pipeline, and must
not go unseen either.

- `held`: a delivery dated later than today plus a tolerance. A clock that far off, or a file
  dated into the future, is not published; it is loaded when its day comes.
- `reported`: anything that is not a delivery: unrecognized names, invalid partition folders,
  folders of no declared entity, files at the wrong depth, and symlinks, which are never
  followed (a link could point anywhere on the machine).

The scan only lists names and never opens a file, so it cannot fail on a file's content.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from durable.delivery import LandedFile
from durable.sources import SourceTable

PARTITION = re.compile(r"dt=(\d{4})-(\d{2})-(\d{2})")
DELIVERY_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*\.csv(\.gz)?", re.IGNORECASE)
EXPECTED = "expected <entity>/dt=YYYY-MM-DD/<name>.csv or .csv.gz"


@dataclass(frozen=True)
class Finding:
    """A path under the landing zone that is not loaded now, and why."""

    path: str  # relative to the landing zone, '/'-separated; a folder ends with '/'
    status: str  # held | reported
    reason: str
    entity: str | None = None
    delivery_date: date | None = None


@dataclass
class LandingScan:
    deliveries: list[LandedFile] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)


def today_utc() -> date:
    return datetime.now(UTC).date()


def partition_date(name: str) -> date | None:
    """The date of a `dt=YYYY-MM-DD` folder name, or None when it names no real day."""
    match = PARTITION.fullmatch(name)
    if not match:
        return None
    try:
        return date(*(int(part) for part in match.groups()))
    except ValueError:
        return None


def _entries(folder: Path) -> list[os.DirEntry]:
    try:
        with os.scandir(folder) as entries:
            return sorted(entries, key=lambda entry: entry.name)
    except OSError:
        return []


def _files_under(folder: Path, landing_dir: Path) -> Iterator[tuple[str, bool]]:
    """Every file below `folder`, links not followed: (relative path, is a symlink)."""
    for entry in _entries(folder):
        relative = Path(entry.path).relative_to(landing_dir).as_posix()
        if entry.is_symlink():
            yield relative, True
        elif entry.is_dir(follow_symlinks=False):
            yield from _files_under(Path(entry.path), landing_dir)
        else:
            yield relative, False


class _Scanner:
    def __init__(self, landing_dir: Path, tables: Iterable[SourceTable], hold_after: date) -> None:
        self.landing_dir = landing_dir
        self.entities = {table.name for table in tables}
        self.hold_after = hold_after
        self.scan = LandingScan()

    def relative(self, path: str) -> str:
        return Path(path).relative_to(self.landing_dir).as_posix()

    def report(self, path: str, reason: str, **where: object) -> None:
        self.scan.findings.append(Finding(path, "reported", reason, **where))

    def report_all_under(self, entry: os.DirEntry, reason: str, **where: object) -> None:
        """Each file of a folder that holds no deliveries; the folder itself when empty."""
        found = False
        for path, is_link in _files_under(Path(entry.path), self.landing_dir):
            found = True
            self.report(path, "symlink, not followed" if is_link else reason, **where)
        if not found:
            self.report(self.relative(entry.path) + "/", reason, **where)

    def top_level(self) -> None:
        for entry in _entries(self.landing_dir):
            if entry.is_symlink():
                self.report(self.relative(entry.path), "symlink, not followed")
            elif not entry.is_dir(follow_symlinks=False):
                self.report(self.relative(entry.path), f"not in an entity folder ({EXPECTED})")
            elif entry.name not in self.entities:
                self.report_all_under(entry, f"no declared source table named {entry.name!r}")
            else:
                self.entity(entry)

    def entity(self, folder: os.DirEntry) -> None:
        for entry in _entries(Path(folder.path)):
            where = {"entity": folder.name}
            if entry.is_symlink():
                self.report(self.relative(entry.path), "symlink, not followed", **where)
            elif not entry.is_dir(follow_symlinks=False):
                self.report(self.relative(entry.path), f"not in a partition ({EXPECTED})", **where)
            elif (day := partition_date(entry.name)) is None:
                self.report_all_under(
                    entry, f"invalid partition folder {entry.name!r} ({EXPECTED})", **where
                )
            else:
                self.partition(entry, folder.name, day)

    def partition(self, folder: os.DirEntry, entity: str, day: date) -> None:
        where = {"entity": entity, "delivery_date": day}
        for entry in _entries(Path(folder.path)):
            relative = self.relative(entry.path)
            if entry.is_symlink():
                self.report(relative, "symlink, not followed", **where)
            elif entry.is_dir(follow_symlinks=False):
                self.report_all_under(entry, f"nested folder ({EXPECTED})", **where)
            elif not DELIVERY_NAME.fullmatch(entry.name):
                self.report(relative, f"unrecognized file name ({EXPECTED})", **where)
            elif day > self.hold_after:
                reason = f"dated after {self.hold_after}: held until its day comes"
                self.scan.findings.append(Finding(relative, "held", reason, entity, day))
            else:
                self.scan.deliveries.append(LandedFile(entity, day, Path(entry.path), relative))


def scan_landing_zone(
    landing_dir: Path,
    tables: Iterable[SourceTable],
    *,
    future_tolerance_days: int = 1,
    today: date | None = None,
) -> LandingScan:
    """Deliveries (oldest first) and findings of the whole landing zone."""
    hold_after = (today or today_utc()) + timedelta(days=future_tolerance_days)
    scanner = _Scanner(landing_dir, tables, hold_after)
    if landing_dir.is_dir():
        scanner.top_level()
    scanner.scan.deliveries.sort(key=lambda f: (f.delivery_date, f.entity, f.source_file))
    return scanner.scan
