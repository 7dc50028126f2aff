"""Catch-up: the runner heals 30 missing days, against one day's run, on the same history.

A history of `days` days is landed, loaded and built (a full refresh); the 30 days after it land
too, and nothing has run them, as after an outage or a source that sent a month at once. From a
copy of that built history, each measured step is one fresh process:

- one day: `Runner.run([(day, day)])` of the first missing day;
- catch-up: a bare `Runner.run()`, which finds the 30 days due and heals them.

The steps alternate their order from one repeat to the next, after one discarded run of each
(their partial parse), as the headline's steps do.
"""

from __future__ import annotations

import os
import statistics
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

from .history import count_rows, land, plan_deliveries
from .measure import measure
from .summary import gib
from .warehouse import copy_database, remove_database, settings_for

MISSING_DAYS = 30
TARGET = 2.0  # the catch-up of 30 days takes at most twice one day's run
STEPS = {"one day": "catchup_day", "catch-up": "catchup"}
ORDERS = (("one day", "catch-up"), ("catch-up", "one day"))


class CatchUp(NamedTuple):
    """The catch-up's own history: `days` days at `scale`, then `missing` days nothing ran."""

    days: int
    scale: int
    missing: int = MISSING_DAYS


def measure_catchup(
    workdir: Path, catchup: CatchUp, repeats: int, log: Callable[[str], object]
) -> dict[str, Any]:
    days, scale, missing_days = catchup
    plan = plan_deliveries(days + missing_days - 1, scale)  # `days`, then the missing ones
    dates = plan.delivery_dates
    history, missing = dates[:days], dates[days:]
    root = workdir / f"catchup-d{days}-m{missing_days}-s{scale}"
    landing, built = root / "landing", root / "built.duckdb"
    work = root / "run" / "warehouse.duckdb"
    landing.mkdir(parents=True, exist_ok=True)
    log(f"catch-up: {days} days of history at scale {scale}, then {missing_days} missing days")
    land(plan, scale, landing, dates)
    if not built.exists():
        from durable import pipeline

        partial = root / "built.partial.duckdb"
        remove_database(partial)
        pipeline.load(settings_for(workdir, partial, landing), history[-1])
        measure("full_refresh", partial, landing, history[-1], workdir)
        os.replace(partial, built)
    results: dict[str, Any] = {
        "history_days": days,
        "scale": scale,
        "missing": [str(missing[0]), str(missing[-1])],
        "missing_days": missing_days,
        "rows_history": count_rows(built),
        "runs": {name: [] for name in STEPS},
    }

    def step(name: str) -> dict[str, Any]:
        copy_database(built, work)
        return measure(STEPS[name], work, landing, missing[0], workdir)

    results["warm_up"] = {name: step(name)["seconds"] for name in STEPS}
    for repeat in range(repeats):
        for name in ORDERS[repeat % len(ORDERS)]:
            results["runs"][name].append(step(name))
            log(f"  {name:<10}{results['runs'][name][-1]['seconds']:8.2f} s")
    return results


def catchup_section(results: dict[str, Any]) -> list[str]:
    """The catch-up's table and its target, for the page."""
    runs = results["runs"]
    seconds = {name: statistics.median(r["seconds"] for r in runs[name]) for name in STEPS}
    ratio = seconds["catch-up"] / seconds["one day"]
    first, last = results["missing"]
    missing = results["missing_days"]
    rows = results["rows_history"]
    windows = sorted({" + ".join(r["windows"]) for r in runs["catch-up"]})
    lines = [
        f"History: {results['history_days']} days at scale {results['scale']} "
        f"({rows['analytics.fct_order_items']:,} order items), built by a full refresh; "
        f"then {missing} days ({first}..{last}) land and nothing runs them. Each step "
        "starts from a copy of that built history, in a fresh process "
        f"(median of {len(runs['one day'])}).",
        "",
        "| measurement | median s | runs s | peak RSS |",
        "| --- | ---: | --- | ---: |",
    ]
    labels = {
        "one day": f"one day: `durable run --date {first}`",
        "catch-up": f"catch-up: `durable run`, {missing} days due",
    }
    for name, label in labels.items():
        times = ", ".join(f"{r['seconds']:.2f}" for r in runs[name])
        peak = gib(max(r["peak_rss"] for r in runs[name]))
        lines.append(f"| {label} | {seconds[name]:.2f} | {times} | {peak} |")
    met = "met" if ratio <= TARGET else "NOT met"
    lines += [
        "",
        f"The catch-up ran as {', '.join(windows)}.",
        "",
        "| ratio | value | target | |",
        "| --- | ---: | ---: | --- |",
        f"| {missing} days / one day | {ratio:.2f} | ≤ {TARGET:g} | {met} |",
    ]
    return lines
