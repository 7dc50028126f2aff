"""Benchmark: an incremental run costs what the new data costs, not what the history costs.

Builds a history of simulated deliveries (`DeliveryPlan.build(seed, days + 1, scale)`: `days` days
land as history, the day after is the new day), loads it, then measures in one run:

1. full refresh: `dbt build --full-refresh` of the whole project from the raw tables alone;
2. the runner: `Runner(settings).run([(day, day)])` for the new day (audit copy, load, build, test,
   publish), with the time of each of its phases;
3. the floor: the same `dbt build` of the same window again, with no new data;
4. plain: load + `dbt build` of the new day through `durable.dbt.invoke` (no audit copy, no
   ledger, no publish), to show the runner's overhead;
5. the MERGE of `fct_order_items`: the model's node as dbt runs it, and the temp relation and the
   MERGE statement dbt ran (captured from dbt's events) executed directly in DuckDB;
6. peak resident memory of each (the measuring process and its children, sampled with psutil).

Every measurement runs in a fresh Python process started from a copy of the same saved state, so
each one pays dbt's start-up and parse the way a scheduled job does, with its database file out of
the page cache; one discarded run of each dbt step comes first (`--no-warm-up` skips it), so each
finds its partial parse as a daily job does. A second pass measures the
runner and the full refresh against 1x, 2x, 4x and 8x a base history (scale/8 .. scale) with the
same new day, and draws the chart. Results go to the generated parts of docs/BENCHMARKS.md (the
hand-written prose around them is kept) and a PNG. The code is in the `bench` package beside this
script; this file is its command line.

    .venv/bin/python scripts/benchmark.py                      # the full benchmark (make bench)
    .venv/bin/python scripts/benchmark.py --rundir /mnt/xfs/bench   # warehouse on XFS: reflinks
    .venv/bin/python scripts/benchmark.py --days 6 --scale 2 --repeats 1 --growth 1,2   # tiny
"""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path

import typer

PROJECT_DIR = Path(__file__).resolve().parent.parent
# The project's `durable` and this script's `bench`, also when the script is loaded by path.
sys.path.insert(0, str(PROJECT_DIR))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench.catchup import CatchUp  # noqa: E402
from bench.report import CHART, PAGE, write_report  # noqa: E402
from bench.run import run_benchmark, run_catchup_only  # noqa: E402
from bench.steps import run_step  # noqa: E402
from bench.summary import table_text  # noqa: E402

__all__ = ["run_benchmark"]

app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
WORKDIR = PROJECT_DIR / "data" / "bench"


@app.command("step", hidden=True)
def step(name: str, database: Path, landing: Path, day: str, workdir: Path) -> None:
    """One measured step, in the process `bench.measure.measure` started for it."""
    result = run_step(name, database, landing, date.fromisoformat(day), workdir)
    print("BENCH " + json.dumps(result, default=str))


@app.command()
def main(
    days: int = typer.Option(1461, help="Days of history (the new day is the day after)."),
    scale: int = typer.Option(8, help="Replicas of orders/items/customers (multiple of 8)."),
    repeats: int = typer.Option(
        6, help="Repetitions of each headline measurement (even: each step order as often)."
    ),
    full_repeats: int = typer.Option(2, help="Repetitions of the full refresh (<= repeats)."),
    warm_up: bool = typer.Option(
        True, help="One discarded run of each dbt step first (their partial parse)."
    ),
    growth: str = typer.Option("1,2,4,8", help="History sizes for the chart, x a base history."),
    growth_repeats: int = typer.Option(
        3, help="Runner runs at each smaller history size (its full refresh runs once)."
    ),
    memory_limit: str = typer.Option(
        "3500MB",
        help="DuckDB memory_limit for every step. The 10M full refresh peaks at about 3.7 GiB "
        "resident with 3500MB (it ran out of memory once in nine runs), 4.2 GiB with 4GB, and "
        "runs out of memory with 3GB.",
    ),
    threads: int = typer.Option(2, help="DuckDB threads (and dbt threads) for every step."),
    workdir: str = typer.Option(str(WORKDIR), help="Scratch and cache."),
    rundir: str = typer.Option(
        "",
        help="Where the measured warehouse files live (default: under --workdir). On XFS or "
        "Btrfs the runner's audit copy is a reflink.",
    ),
    docs: str = typer.Option(str(PAGE), help="Report to write."),
    chart: str = typer.Option(str(CHART), help="Chart to draw."),
    report_only: bool = typer.Option(False, help="Only re-write the page from results.json."),
    catchup_days: int = typer.Option(
        365, help="Days of the catch-up's history (30 missing days follow it)."
    ),
    catchup_scale: int = typer.Option(8, help="Scale of the catch-up's history."),
    only_catchup: bool = typer.Option(False, help="Measure the catch-up alone; write its part."),
) -> None:
    """Measure full refresh, incremental, floor, runner overhead, MERGE and memory."""
    if report_only:  # re-render the page and the chart from the last run's figures
        results = json.loads((Path(workdir) / "results.json").read_text())
        print(table_text(write_report(results, Path(docs), Path(chart))))
        return
    if only_catchup:
        run_catchup_only(
            Path(workdir),
            CatchUp(catchup_days, catchup_scale),
            repeats,
            memory_limit,
            threads,
            Path(docs),
        )
        return
    run_benchmark(
        Path(workdir),
        days,
        scale,
        repeats,
        [int(g) for g in growth.split(",")],
        growth_repeats,
        memory_limit,
        threads,
        Path(docs),
        Path(chart),
        full_repeats=full_repeats,
        rundir=Path(rundir) if rundir else None,
        warm_up=warm_up,
        catchup=CatchUp(catchup_days, catchup_scale),
    )


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "step":
        app()
    else:
        typer.run(main)
