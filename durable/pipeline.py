"""Process one window: load what has landed, then build and test it with dbt.

This is the unit of work everything else repeats: the main job runs it day by day, and the
runner wraps it with write-audit-publish, retries and a ledger.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from durable import dbt
from durable.config import Settings
from durable.landing import LoadReport, load_landing
from durable.sources import load_source_tables


@dataclass
class WindowResult:
    start: date | None
    end: date | None
    load: LoadReport
    build: dbt.DbtOutcome

    @property
    def success(self) -> bool:
        return self.build.success


def load(settings: Settings, through: date | None) -> LoadReport:
    """Load every new landing file delivered up to `through` into the target's raw tables."""
    tables = load_source_tables(settings.project_dir)
    if settings.target == "postgres":
        from durable.postgres_landing import load_landing_postgres

        report = load_landing_postgres(settings, tables, through)
    elif settings.target == "spark":
        from durable.spark_landing import load_landing_spark

        report = load_landing_spark(settings, tables, through)
    else:
        report = load_landing(
            settings.duckdb_path,
            settings.landing_dir,
            settings.raw_schema,
            tables,
            through,
            settings.future_tolerance_days,
        )
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
        args += ["--select", *select]
    variables = dbt.window_vars(start, end, lookback_days)
    outcome = dbt.invoke(settings, args, variables, quiet=quiet)
    return WindowResult(start, end, report, outcome)
