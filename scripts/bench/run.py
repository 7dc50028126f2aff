"""The whole benchmark: every measurement on the headline history, repeated, then the runner and
the full refresh on smaller histories for the growth chart; the figures then go to the page."""

from __future__ import annotations

import json
import os
import shutil
import statistics
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import typer

from .catchup import CatchUp, catchup_section, measure_catchup
from .history import History, Plan, count_rows, plan_deliveries, prepare
from .machine import load_average, machine
from .measure import (
    DAY_STEP_NAMES,
    DAY_STEP_ORDERS,
    DBT_STEPS,
    byte_copy_seconds,
    dbt_step,
    measure,
    warm_up_steps,
)
from .report import write_report, write_sections
from .steps import MERGE_PARENTS
from .summary import table_text
from .warehouse import copy_database

Log = Callable[[str], object]


def _headline(
    results: dict[str, Any],
    history: History,
    new_day: date,
    workdir: Path,
    repeats: int,
    full_repeats: int,
    warm_up: bool,
    log: Log,
) -> dict[str, list[dict[str, Any]]]:
    """Every measurement on the headline history, `repeats` times (the full refresh
    `full_repeats` times); the first full refresh's file is the built history the rest copy."""
    runs: dict[str, list[dict[str, Any]]] = {k: [] for k in ("full", *DBT_STEPS, "raw")}
    for repeat in range(repeats):
        log(f"repeat {repeat + 1}/{repeats} (history scale {history.scale})")
        if repeat < full_repeats:
            copy_database(history.raw, history.work)
            runs["full"].append(
                measure("full_refresh", history.work, history.landing, new_day, workdir)
            )
            log(f"  full refresh      {runs['full'][-1]['seconds']:8.2f} s")
            if repeat == 0:
                shutil.move(history.work, history.built)  # the run folder may be another disk
                results["rows_history"] = count_rows(history.built)
        if repeat == 0 and warm_up:
            results["warm_up"] = warm_up_steps(history, new_day, workdir, log)
        order = DAY_STEP_ORDERS[repeat % len(DAY_STEP_ORDERS)]
        results.setdefault("day_step_orders", []).append(list(order))
        for name in order:
            runs[name].append(dbt_step(name, history, new_day, workdir))
            log(f"  {DAY_STEP_NAMES[name]:<18}{runs[name][-1]['seconds']:7.2f} s")
            if name == "runner" and "rows_after" not in results:
                results["rows_after"] = count_rows(history.work)
        runs["merge_dbt"].append(dbt_step("merge_dbt", history, new_day, workdir))
        log(f"  dbt MERGE node    {runs['merge_dbt'][-1]['node_seconds']:8.2f} s")
        copy_database(workdir / MERGE_PARENTS, history.work)
        runs["raw"].append(measure("merge_raw", history.work, history.landing, new_day, workdir))
        log(f"  raw MERGE         {runs['raw'][-1]['seconds']:8.2f} s")
    return runs


def _growth_point(
    plan: Plan,
    base: int,
    factor: int,
    new_day: date,
    workdir: Path,
    growth_repeats: int,
    rundir: Path | None,
    log: Log,
) -> dict[str, Any]:
    """The full refresh once and the runner `growth_repeats` times on `factor` x the base."""
    log(f"history {factor}x (scale {base * factor})")
    small, _ = prepare(workdir, plan, base * factor, log, rundir)
    point: dict[str, Any] = {"factor": factor, "scale": base * factor, "full": [], "runner": []}
    point["runner_nodes"] = []
    copy_database(small.raw, small.work)
    point["full"].append(
        measure("full_refresh", small.work, small.landing, new_day, workdir)["seconds"]
    )
    # The runner starts from this run's full refresh, as at the headline size: a build cached
    # by an earlier version of the models would measure that version.
    point["rows"] = count_rows(small.work)
    shutil.copyfile(small.work, small.built)
    # A daily job finds yesterday's partial parse in its target folder; the first run at a new
    # database path re-parses (about 3 s), so it warms up (on the full refresh's file, still in
    # place) and is discarded, as the headline's warm-up is.
    measure("runner", small.work, small.landing, new_day, workdir)
    for _ in range(growth_repeats):  # the chart's median, not one run's noise
        copy_database(small.built, small.work)
        run = measure("runner", small.work, small.landing, new_day, workdir)
        point["runner"].append(run["seconds"])
        point["runner_nodes"].append(run["nodes"])
    log(
        f"  full {statistics.median(point['full']):.2f} s, "
        f"runner {statistics.median(point['runner']):.2f} s"
    )
    return point


def step_settings(memory_limit: str, threads: int) -> None:
    """Every step's process reads these: the same DuckDB and dbt settings for all of them."""
    os.environ["DURABLE_DUCKDB_MEMORY_LIMIT"] = memory_limit
    os.environ["DURABLE_DUCKDB_THREADS"] = str(threads)
    os.environ["DBT_THREADS"] = str(threads)
    # No earlier states kept for rollback: on a filesystem without reflinks each is a whole
    # warehouse file, and dozens of measured publishes would fill the disk (a link costs no time).
    os.environ["DURABLE_KEEP_PUBLICATIONS"] = "0"


def run_catchup_only(
    workdir: Path,
    catchup: CatchUp,
    repeats: int,
    memory_limit: str,
    threads: int,
    docs: Path,
    log: Log = print,
) -> dict[str, Any]:
    """The catch-up alone: its part of the page, and its figures added to the last results."""
    step_settings(memory_limit, threads)
    workdir.mkdir(parents=True, exist_ok=True)
    measured = measure_catchup(workdir, catchup, repeats, log)
    write_sections({"catch-up": catchup_section(measured)}, docs)
    saved = workdir / "results.json"
    if saved.exists():
        results = json.loads(saved.read_text())
        results["catchup"] = measured
        saved.write_text(json.dumps(results, indent=1, default=str))
    log("\n".join(catchup_section(measured)))
    return measured


def run_benchmark(
    workdir: Path,
    days: int,
    scale: int,
    repeats: int,
    growth: list[int],
    growth_repeats: int,
    memory_limit: str,
    threads: int,
    docs: Path,
    chart: Path,
    log: Log = print,
    full_repeats: int | None = None,
    rundir: Path | None = None,
    warm_up: bool = True,
    catchup: CatchUp | None = None,
) -> dict[str, Any]:
    """Everything; `catchup`: the catch-up's history, when it is measured (bench/catchup.py)."""
    full_repeats = repeats if full_repeats is None else max(1, min(full_repeats, repeats))
    step_settings(memory_limit, threads)
    workdir.mkdir(parents=True, exist_ok=True)
    began = time.perf_counter()
    load_at_start = load_average()
    if scale % max(growth) != 0:
        raise typer.BadParameter(f"--scale {scale} must be a multiple of {max(growth)}")
    log(f"planning {days} days + 1 new day, scale {scale}")
    plan = plan_deliveries(days, scale)
    new_day = plan.delivery_dates[-1]
    results: dict[str, Any] = {"days": days, "scale": scale, "new_day": new_day.isoformat()}

    history, info = prepare(workdir, plan, scale, log, rundir)
    results["preparation"] = info
    runs = _headline(results, history, new_day, workdir, repeats, full_repeats, warm_up, log)
    results["runs"] = runs
    results["byte_copy_seconds"] = byte_copy_seconds(history)

    # The largest size is the headline history: its figures are reused, not measured again.
    base = scale // max(growth)
    results["growth"] = []
    for factor in growth:
        if factor == max(growth):
            point = {"factor": factor, "scale": scale, "rows": results["rows_history"]}
            point["full"] = [r["seconds"] for r in runs["full"]]
            point["runner"] = [r["seconds"] for r in runs["runner"]]
            point["runner_nodes"] = [r["nodes"] for r in runs["runner"]]
        else:
            point = _growth_point(plan, base, factor, new_day, workdir, growth_repeats, rundir, log)
        results["growth"].append(point)

    if catchup is not None:
        results["catchup"] = measure_catchup(workdir, catchup, repeats, log)

    results["machine"] = machine(memory_limit, threads, history.work.parent)
    methods = sorted({str(r.get("copy_method")) for r in runs["runner"]})
    results["machine"]["runner audit copy"] = " / ".join(methods)
    results["machine"]["load average at start (1/5/15 min)"] = load_at_start
    results["machine"]["load average at end (1/5/15 min)"] = load_average()
    results["benchmark_seconds"] = time.perf_counter() - began
    summary = write_report(results, docs, chart)
    (workdir / "results.json").write_text(json.dumps(results, indent=1, default=str))
    log(table_text(summary))
    return {"results": results, "summary": summary}
