"""What lies in the landing zone: deliveries to load, and every other file, each with a reason.

A delivery is a file whose path fits the landing pattern of a declared table (its source's
`meta.durable.path`, e.g. `<table>/dt=YYYY-MM-DD/<name>.csv` or `.csv.gz`; see
durable/landing/pattern.py). Every other path under the landing zone is a finding, never an
error: a source system that writes a stray file, a folder with an impossible date or a symlink
must not stop the pipeline, and must not go unseen either.

- `held`: a delivery dated later than today plus a tolerance. A clock that far off, or a file
  dated into the future, is not published; it is loaded when its day comes.
- `reported`: anything that is not a delivery: unrecognized names, invalid partition folders,
  folders of no declared table, files at the wrong depth, a file two tables' patterns both fit,
  and symlinks, which are never followed (a link could point anywhere on the machine).

The scan walks the folders level by level, keeping at each level the tables whose pattern the
path still fits, so a folder no pattern wants is reported without being read. It only lists names
and never opens a file, so it cannot fail on a file's content.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from durable import clock
from durable.landing.delivery import LandedFile
from durable.landing.pattern import LandingPattern, Segment
from durable.sources import SourceTable


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
    return clock.now().date()


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


@dataclass(frozen=True)
class _Candidate:
    """A table whose pattern the path walked so far still fits."""

    table: SourceTable
    pattern: LandingPattern
    day: date | None = None  # once a level held {date}
    named: bool = False  # once a level held {table}: the path says which table it is

    def segment(self, depth: int) -> Segment:
        return self.pattern.segments[depth]

    def wants_file(self, depth: int) -> bool:
        return depth == len(self.pattern.segments) - 1

    def descend(self, depth: int, name: str) -> _Candidate | None:
        fits, day = self.segment(depth).match(name)
        if not fits:
            return None
        named = self.named or self.segment(depth).has_table
        return _Candidate(self.table, self.pattern, day or self.day, named)


def _expected(candidates: Iterable[_Candidate]) -> str:
    return "expected " + " or ".join(sorted({c.pattern.describe() for c in candidates}))


def _where(candidates: list[_Candidate]) -> dict[str, object]:
    """The table name and delivery date the path has told so far, where all candidates agree."""
    names = {c.table.name if c.named else None for c in candidates}
    days = {c.day for c in candidates}
    return {
        "entity": names.pop() if len(names) == 1 else None,
        "delivery_date": days.pop() if len(days) == 1 else None,
    }


def _folder_problem(name: str, segments: list[Segment], expected: str) -> str:
    """Why a folder fits no pattern, in the words of the level that was expected."""
    if segments and all(segment.is_table for segment in segments):
        return f"no declared source table named {name!r}"
    if segments and all(segment.has_date for segment in segments):
        return f"invalid partition folder {name!r} ({expected})"
    return f"unexpected folder {name!r} ({expected})"


def _misplaced_file(segments: list[Segment], expected: str) -> str:
    """Why a file lies where a folder was expected."""
    if all(segment.is_table for segment in segments):
        return f"not in an entity folder ({expected})"
    if all(segment.has_date for segment in segments):
        return f"not in a partition ({expected})"
    return f"not in a folder of the layout ({expected})"


class _Scanner:
    def __init__(self, landing_dir: Path, tables: Iterable[SourceTable], hold_after: date) -> None:
        self.landing_dir = landing_dir
        self.hold_after = hold_after
        self.scan = LandingScan()
        self.candidates = [_Candidate(table, table.pattern) for table in tables]

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

    def walk(self, folder: Path, depth: int, candidates: list[_Candidate]) -> None:
        where = _where(candidates)
        expected = _expected(candidates)
        files = [c for c in candidates if c.wants_file(depth)]
        folders = [c for c in candidates if not c.wants_file(depth)]
        for entry in _entries(folder):
            relative = self.relative(entry.path)
            if entry.is_symlink():
                self.report(relative, "symlink, not followed", **where)
            elif entry.is_dir(follow_symlinks=False):
                fitting = [c for c in (c.descend(depth, entry.name) for c in folders) if c]
                if fitting:
                    self.walk(Path(entry.path), depth + 1, fitting)
                elif not folders:
                    self.report_all_under(entry, f"nested folder ({expected})", **where)
                else:
                    segments = [c.segment(depth) for c in folders]
                    problem = _folder_problem(entry.name, segments, expected)
                    self.report_all_under(entry, problem, **where)
            elif fitting := [c for c in (c.descend(depth, entry.name) for c in files) if c]:
                self.file(entry, relative, fitting)
            elif files:
                self.report(relative, f"unrecognized file name ({expected})", **where)
            else:
                problem = _misplaced_file([c.segment(depth) for c in folders], expected)
                self.report(relative, problem, **where)

    def file(self, entry: os.DirEntry, relative: str, fitting: list[_Candidate]) -> None:
        where = _where(fitting)
        if len(fitting) > 1:
            tables = ", ".join(sorted(f"{c.table.source}.{c.table.name}" for c in fitting))
            self.report(relative, f"fits the landing path of several tables: {tables}", **where)
            return
        (candidate,) = fitting
        table, day = candidate.table, candidate.day
        assert day is not None  # every pattern holds {date} (durable/landing/pattern.py)
        if day > self.hold_after:
            reason = f"dated after {self.hold_after}: held until its day comes"
            self.scan.findings.append(Finding(relative, "held", reason, table.name, day))
        else:
            landed = LandedFile(table.name, day, Path(entry.path), relative, table.source)
            self.scan.deliveries.append(landed)


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
        if scanner.candidates:
            scanner.walk(landing_dir, 0, scanner.candidates)
        else:
            for path, is_link in _files_under(landing_dir, landing_dir):
                reason = "the project declares no landed source (meta.durable)"
                scanner.report(path, "symlink, not followed" if is_link else reason)
    scanner.scan.deliveries.sort(key=lambda f: (f.delivery_date, f.source, f.entity, f.source_file))
    return scanner.scan


def discover(
    landing_dir: Path,
    tables: Iterable[SourceTable],
    through: date | None = None,
    future_tolerance_days: int = 1,
) -> tuple[list[LandedFile], list[Finding]]:
    """Deliveries in the landing zone, oldest first (`through` hides later ones), and the
    findings: every other path, held or reported."""
    scan = scan_landing_zone(landing_dir, tables, future_tolerance_days=future_tolerance_days)
    deliveries = [f for f in scan.deliveries if through is None or f.delivery_date <= through]
    return deliveries, scan.findings
