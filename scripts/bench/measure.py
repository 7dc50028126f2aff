"""Measuring a step: a fresh process per run, its wall time and the peak memory of its tree."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import psutil

from .history import History
from .warehouse import copy_database, evict_from_page_cache, prepare_audit_copy, remove_database

# A step runs as `benchmark.py step ...` in a fresh interpreter, as a scheduled job starts.
ENTRY_POINT = Path(__file__).resolve().parents[1] / "benchmark.py"
SAMPLE_EVERY_S = 0.05

# How the process a run starts after publishing is called (durable/engines/duckdb/prepared.py).
PREPARER = "from durable.engines.duckdb.prepared import main"
# The steps that run the runner, whose audit copy a daily job finds prepared.
RUNNER_STEPS = ("runner", "catchup_day", "catchup")
# The warm-up runs them in this order (noop follows plain); the measured repeats in DAY_STEP_ORDERS.
DBT_STEPS = ("runner", "plain", "noop", "plain_reflink", "merge_dbt")
# The order the day's steps take in a repeat, alternating: the runner first in one repeat,
# plain first in the next. The first step of a repeat follows the MERGE steps (or the full
# refresh) and ran about 0.7 s slower than the same step later in a repeat: with plain always
# second and the runner first or last, the runner took that cost in 3 of 5 repeats and plain
# never. The floor re-runs the file plain just left, so it follows plain.
DAY_STEP_ORDERS = (
    ("runner", "plain", "noop", "plain_reflink"),
    ("plain", "noop", "runner", "plain_reflink"),
)
# What the log and the report call them.
DAY_STEP_NAMES = {
    "runner": "runner",
    "plain": "plain",
    "noop": "floor",
    "plain_reflink": "reflinked plain",
}


def _peak_rss(pid: int, done: threading.Event, peak: list[int]) -> None:
    """Sample the resident memory of `pid` and its children until `done`; keep the largest."""
    try:
        parent = psutil.Process(pid)
    except psutil.NoSuchProcess:
        return
    while not done.is_set():
        try:
            processes = [parent, *parent.children(recursive=True)]
            rss = sum(p.memory_info().rss for p in processes)
            peak[0] = max(peak[0], rss)
        except psutil.NoSuchProcess:
            pass
        done.wait(SAMPLE_EVERY_S)


def _wait_for_work_after_the_run() -> float:
    """Wait for what a run leaves to a process of its own (deleting the file its publish
    replaced, copying production for the next run): the next step must not compete with it."""
    began = time.perf_counter()
    while any(
        PREPARER in " ".join(process.info["cmdline"] or ())
        for process in psutil.process_iter(["cmdline"])
    ):
        time.sleep(0.1)
    return time.perf_counter() - began


def measure(name: str, database: Path, landing: Path, day: date, workdir: Path) -> dict[str, Any]:
    """Run one step in a child process; add its wall time and peak resident memory."""
    # A daily run finds the audit copy its predecessor made after publishing, where the copy is
    # a byte copy (durable/engines/duckdb/prepared.py): made here, before the clock starts.
    prepared = prepare_audit_copy(database) if name in RUNNER_STEPS else None
    # Nothing left to write back, from the step before (a full refresh leaves gigabytes dirty
    # for tens of seconds) or from our set-up copies (a reflink waits for it): otherwise the step
    # pays for it, where a production file published yesterday is long written.
    os.sync()
    # And nothing of the database in memory: the runner's audit copy is a new file whose pages
    # were never read, while a step on a copy this script has just written would find all of
    # them cached. Every step starts from the disk, as a daily job finds yesterday's file.
    evict_from_page_cache(database)
    if prepared is not None:
        evict_from_page_cache(prepared[1])
    command = [sys.executable, str(ENTRY_POINT), "step", name, str(database), str(landing)]
    began = time.perf_counter()
    child = subprocess.Popen(
        [*command, str(day), str(workdir)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    peak = [0]
    done = threading.Event()
    sampler = threading.Thread(target=_peak_rss, args=(child.pid, done, peak), daemon=True)
    sampler.start()
    stdout, stderr = child.communicate()
    done.set()
    sampler.join()
    wall = time.perf_counter() - began
    lines = [line for line in stdout.splitlines() if line.startswith("BENCH ")]
    if child.returncode != 0 or not lines:
        tail = "\n".join((stderr or stdout).strip().splitlines()[-15:])
        raise RuntimeError(f"benchmark step {name} failed (exit {child.returncode}):\n{tail}")
    result: dict[str, Any] = json.loads(lines[-1][len("BENCH ") :])
    result["wall_seconds"] = wall
    if prepared is not None:
        result["prepared_seconds"] = prepared[0]
    if name in RUNNER_STEPS:
        result["after_run_seconds"] = _wait_for_work_after_the_run()
    result["peak_rss"] = peak[0]
    return result


def dbt_step(name: str, history: History, day: date, workdir: Path) -> dict[str, Any]:
    """One of DBT_STEPS on the built history: each starts from a copy of it, except the floor,
    which re-runs the plain step's window on the file the plain step left, and plain_reflink,
    which runs plain on a reflink of that copy, as the runner builds in its audit copy: the
    filesystem's copy-on-write, apart from the runner's own work."""
    if name != "noop":
        copy_database(history.built, history.work)
    if name != "plain_reflink":
        return measure(name, history.work, history.landing, day, workdir)
    from durable.engines.duckdb.clone import clone_file

    reflinked = history.work.with_name("reflinked.duckdb")
    remove_database(reflinked)
    method = clone_file(history.work, reflinked)
    try:
        result = measure(name, reflinked, history.landing, day, workdir)
    finally:
        remove_database(reflinked)
    return {**result, "copy_method": method}


def warm_up_steps(
    history: History, day: date, workdir: Path, log: Callable[[str], object]
) -> dict[str, float]:
    """One discarded run of each dbt step before the measured ones. A daily job finds yesterday's
    partial parse in its target folder; after a change to the project, the first run of each
    step re-parses everything (about 3 s), a one-off the measured runs should not carry."""
    seconds = {name: dbt_step(name, history, day, workdir)["seconds"] for name in DBT_STEPS}
    log("  warm-up (discarded) " + ", ".join(f"{k} {v:.2f} s" for k, v in seconds.items()))
    return seconds


def byte_copy_seconds(history: History) -> float:
    """How long a plain byte copy of the production file takes here (what the runner's audit
    copy costs on a filesystem without reflinks), next to the measured warehouse."""
    probe = history.work.with_name("byte-copy-probe.duckdb")
    began = time.perf_counter()
    shutil.copyfile(history.built, probe)
    seconds = time.perf_counter() - began
    probe.unlink()
    return seconds
