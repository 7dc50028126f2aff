"""Process one window: load what has landed, then build and test it with dbt.

This is the unit of work everything else repeats: the main job runs it day by day, and the
runner wraps it with write-audit-publish, retries and a ledger.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from durable import dbt
from durable.config import Settings
from durable.engines import Engine, engine_for
from durable.landing.accounting import LoadReport
from durable.landing.zone import discover
from durable.selection import with_seeds_read
from durable.sources import SourceTable, load_source_tables


@dataclass
class WindowResult:
    start: date | None
    end: date | None
    load: LoadReport
    build: dbt.DbtOutcome

    @property
    def success(self) -> bool:
        return self.build.success


def load(
    settings: Settings,
    through: date | None,
    engine: Engine | None = None,
    tables: Sequence[SourceTable] | None = None,
) -> LoadReport:
    """Load every new landing file delivered up to `through` into the target's raw tables.
    `engine` and `tables`: the runner's, chosen and read once per run; else the settings'."""
    tables = load_source_tables(settings.project_dir) if tables is None else tables
    deliveries, findings = discover(
        settings.landing_dir, tables, through, settings.future_tolerance_days
    )
    loader = (engine or engine_for(settings)).loader(settings)
    report = loader.load(tables, deliveries, findings)
    report.sources = sorted({table.source for table in tables})
    return report


def process_window(
    settings: Settings,
    start: date | None,
    end: date | None,
    *,
    full_refresh: bool = False,
    select: list[str] | None = None,
    lookback_days: int | None = None,
    quiet: bool = False,
) -> WindowResult:
    """Load deliveries up to `end`, then `dbt build` the window [start, end]."""
    report = load(settings, end)
    args = ["build"]
    if full_refresh:
        args.append("--full-refresh")
    if select:
        args += ["--select", *with_seeds_read(select)]
    variables = dbt.window_vars(start, end, lookback_days)
    outcome = dbt.invoke(settings, args, variables, quiet=quiet)
    return WindowResult(start, end, report, outcome)
