"""The simulated history the benchmark measures on: planned, landed and loaded once, then cached.

The only module of the benchmark that imports the simulator: the rest sees a plan's dates and a
`History`'s files.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from datetime import date
from multiprocessing import get_context
from pathlib import Path
from typing import TypeAlias

from jaffle_simulator import DeliveryPlan
from jaffle_simulator.layout import (
    REPLICATED_ID_COLUMNS,
    FileSpec,
    relative_path,
    render,
    write_atomically,
)

from .warehouse import remove_database, settings_for

PROJECT_DIR = Path(__file__).resolve().parents[2]
SEED = 42
FCT_ITEMS = "analytics.fct_order_items"
# What the page's data table counts, before and after the new day.
COUNTED = ("raw.items", "raw.orders", FCT_ITEMS, "analytics.fct_orders")

# What the rest of the benchmark calls a plan, so that only this module names the simulator.
Plan: TypeAlias = DeliveryPlan

# The plan being landed: forked workers inherit it rather than unpickle a plan of millions of
# rows each.
_plan: DeliveryPlan | None = None


def plan_deliveries(days: int, scale: int) -> DeliveryPlan:
    """`days` days of history and the new day after them."""
    return DeliveryPlan.build(seed=SEED, days=days + 1, scale=scale)


class History:
    """One history size: its landing zone, its raw-only database and its built database."""

    def __init__(self, workdir: Path, scale: int, rundir: Path | None = None) -> None:
        self.scale = scale
        self.root = workdir / f"history-s{scale}"
        self.landing = self.root / "landing"
        self.raw = self.root / "history-raw.duckdb"  # raw tables through the last history day
        self.built = self.root / "built.duckdb"  # ... and every model built (full refresh)
        # What each step runs on (a copy), the production file of the runner step: its audit
        # copy is made next to it, so the filesystem here decides reflink or byte copy.
        run = (rundir / f"s{scale}") if rundir else (self.root / "run")
        self.work = run / "warehouse.duckdb"


def _land_days(args: tuple[int, list[date]]) -> int:
    scale, days = args
    assert _plan is not None, "land() sets the plan before it forks"
    plan = replace(_plan, scale=scale)
    landing = Path(os.environ["BENCH_LANDING"])
    return sum(len(plan.land(landing, only=day)) for day in days)


def _prefix_lines(spec: FileSpec, scale: int) -> int | None:
    """Lines of the file at `scale` (header included), or None when it is not a plain file.

    A rendered file holds the planned rows, then copy 1 of every replicable row, then copy 2, ...
    so the file at a smaller scale is a prefix of the file at a larger one (same ids per copy).
    """
    if spec.drifts or spec.truncate or spec.bom or spec.encoding != "utf-8":
        return None
    replicable = sum(1 for row in spec.rows if row.fault is None)
    copies = scale - 1 if spec.entity in REPLICATED_ID_COLUMNS else 0
    return 1 + len(spec.rows) + copies * replicable


def _derive(plan: DeliveryPlan, scale: int, landing: Path, larger: Path, days: list[date]) -> None:
    """Land `days` at `scale` by cutting the files already landed at a larger scale."""
    wanted = set(days)
    for (entity, day), spec in plan.files.items():
        if day not in wanted:
            continue
        path, source = landing / relative_path(entity, day), larger / relative_path(entity, day)
        lines = _prefix_lines(spec, scale)
        if lines is None or not source.exists():
            write_atomically(path, render(spec, scale))
            continue
        with source.open("rb") as handle:
            data = b"".join(handle.readline() for _ in range(lines))
        write_atomically(path, data)


def land(
    plan: DeliveryPlan, scale: int, landing: Path, days: list[date], larger: Path | None = None
) -> float:
    """Write the deliveries of `days` at `scale` into `landing`, on every core; return seconds."""
    global _plan
    marker = landing / f".landed-{days[0]}-{days[-1]}-s{scale}"
    if marker.exists():
        return 0.0
    began = time.perf_counter()
    if larger is not None:
        _derive(plan, scale, landing, larger, days)
        marker.touch()
        return time.perf_counter() - began
    _plan = plan
    os.environ["BENCH_LANDING"] = str(landing)
    # Later days are bigger (the shop grows): deal them round-robin so workers finish together.
    workers = max(1, min(os.cpu_count() or 1, len(days)))
    chunks = [(scale, days[i::workers]) for i in range(workers)]
    with ProcessPoolExecutor(workers, mp_context=get_context("fork")) as pool:
        list(pool.map(_land_days, chunks))
    marker.touch()
    return time.perf_counter() - began


def prepare(
    workdir: Path,
    plan: DeliveryPlan,
    scale: int,
    log: Callable[[str], object],
    rundir: Path | None = None,
) -> tuple[History, dict[str, float]]:
    """Land and load the history at `scale` and the new day at the full scale (cached).

    A history smaller than one already prepared is cut from it (a prefix of each file, see
    `_derive`, and the matching rows of its raw tables, see `_cut_raw`).
    """
    history = History(workdir, scale, rundir)
    history.landing.mkdir(parents=True, exist_ok=True)
    days, new_day = plan.delivery_dates[:-1], plan.delivery_dates[-1]
    info: dict[str, float] = {}
    larger = _larger_history(workdir, scale, days)
    info["land history s"] = land(plan, scale, history.landing, days, larger and larger.landing)
    info["land new day s"] = land(plan, plan.scale, history.landing, [new_day])
    full_raw = larger.raw if larger else None
    if not history.raw.exists() and full_raw is not None:
        log(f"  cutting history (scale {scale}) from the full-scale raw tables")
        began = time.perf_counter()
        _cut_raw(plan, scale, history, full_raw, days)
        info["cut history s"] = time.perf_counter() - began
    if not history.raw.exists():
        from durable import pipeline

        log(f"  loading history (scale {scale})")
        partial = history.raw.with_suffix(".partial")
        remove_database(partial)
        began = time.perf_counter()
        load = pipeline.load(settings_for(workdir, partial, history.landing), days[-1])
        if load.quarantined:
            raise RuntimeError(f"history quarantined: {[f.source_file for f in load.quarantined]}")
        info["load history s"] = time.perf_counter() - began
        os.replace(partial, history.raw)
    return history, info


def _larger_history(workdir: Path, scale: int, days: list[date]) -> History | None:
    """The smallest history already landed and loaded at a larger scale for the same days."""
    found = []
    for folder in workdir.glob("history-s*"):
        other = int(folder.name.removeprefix("history-s"))
        candidate = History(workdir, other)
        landed = candidate.landing / f".landed-{days[0]}-{days[-1]}-s{other}"
        if other > scale and landed.exists() and candidate.raw.exists():
            found.append(candidate)
    return min(found, key=lambda h: h.scale) if found else None


def _cut_raw(
    plan: DeliveryPlan, scale: int, history: History, full_raw: Path, days: list[date]
) -> None:
    """The raw tables the loader would make of the cut files, taken from the full-scale ones.

    Each cut file is a prefix of the full-scale file, so its rows are the full file's rows up to
    a row number; the ledger gets the cut files' own size, mtime and hash, so the runner sees
    them as loaded. Loading them again through the loader would give the same tables, slower.
    """
    import duckdb

    from durable.engines.duckdb.loader import DuckDBRawTables as DuckDBLoader
    from durable.sources import load_source_tables

    tables = load_source_tables(PROJECT_DIR)
    wanted = set(days)
    ledger = []
    for (entity, day), spec in plan.files.items():
        if day not in wanted:
            continue
        source_file = relative_path(entity, day)
        path = history.landing / source_file
        stat = path.stat()
        lines = _prefix_lines(spec, scale)
        if lines is None:
            raise RuntimeError(f"{source_file} is not a plain file: it cannot be cut")
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        ledger.append((source_file, stat.st_size, stat.st_mtime_ns, digest, lines - 1))
    partial = history.raw.with_suffix(".partial")
    remove_database(partial)
    with duckdb.connect(str(partial)) as con:
        DuckDBLoader(con, "raw").ensure_tables(tables)
        con.execute(f"attach '{full_raw}' as full_raw (read_only)")
        rejected = con.execute("select count(*) from full_raw.raw._rejected_rows")
        if rejected.fetchone()[0]:
            raise RuntimeError("the full-scale history has rejected lines: cannot cut it")
        con.execute(
            "create temp table cut (source_file varchar, size_bytes bigint, mtime_ns bigint,"
            " sha256 varchar, keep bigint)"
        )
        con.executemany("insert into cut values (?, ?, ?, ?, ?)", ledger)
        for table in tables:
            con.execute(
                f'insert into raw."{table.name}" select rows.* '
                f'from full_raw.raw."{table.name}" as rows '
                "join cut on rows._source_file = cut.source_file "
                "where rows._row_number <= cut.keep"
            )
        con.execute(
            """insert into raw._landed_files
            select landed.source_file, landed.entity, landed.delivery_date, cut.size_bytes,
                cut.mtime_ns, cut.sha256, landed.status, cut.keep, cut.keep, 0, landed.message,
                landed.loaded_at
            from full_raw.raw._landed_files as landed
            join cut on landed.source_file = cut.source_file"""
        )
        con.execute("detach full_raw")
    os.replace(partial, history.raw)


def count_rows(database: Path) -> dict[str, int]:
    import duckdb

    with duckdb.connect(str(database), read_only=True) as con:
        return {name: con.execute(f"select count(*) from {name}").fetchone()[0] for name in COUNTED}
