"""The page's measured part: the machine, the data, every time, ratio and node table, the chart.

What each table holds and how it was measured is described here, beside the code that measures
it; what the figures mean is the hand-written prose of docs/BENCHMARKS.md.
"""

from __future__ import annotations

import os
import statistics
from pathlib import Path
from typing import Any

from .history import FCT_ITEMS, SEED
from .measure import DAY_STEP_NAMES, DAY_STEP_ORDERS
from .summary import DBT_NODE, gib, measured_runs, node_medians

SLOWEST_NODES = 12
GROWING_NODES = 8


def _kind(unique_id: str) -> str:
    kind, _, name = unique_id.split(".", 2)
    if kind == "model":
        layer = name.split("_")[0]
        return f"model: {layer}_*"
    return kind


def _by_kind(runs: dict[str, Any]) -> list[str]:
    sums: dict[str, dict[str, list[float]]] = {}
    for column in ("full", "runner", "noop"):
        for run in runs[column]:
            totals: dict[str, float] = {}
            for node, (_, seconds) in run["nodes"].items():
                totals[_kind(node)] = totals.get(_kind(node), 0.0) + seconds
            for kind, total in totals.items():
                sums.setdefault(kind, {}).setdefault(column, []).append(total)
    lines = []
    for kind in sorted(sums, key=lambda k: -statistics.median(sums[k].get("full", [0]))):
        cells = [
            f"{statistics.median(sums[kind][c]):.2f}" if c in sums[kind] else "-"
            for c in ("full", "runner", "noop")
        ]
        lines.append(f"| {kind} | {' | '.join(cells)} |")
    return lines


def _runs_text(runs: list[float]) -> str:
    return "from one run" if len(runs) == 1 else f"the median of {len(runs)} runs"


def growth_nodes(growth: list[dict[str, Any]], top: int = GROWING_NODES) -> list[str]:
    """The nodes of the day's run whose time grows most from the smallest history to the
    largest (median node times), and the sum of all node times at each size."""
    if not all(point.get("runner_nodes") for point in growth):
        return []  # figures from before the nodes were kept at every size
    medians = [node_medians([{"nodes": n} for n in p["runner_nodes"]]) for p in growth]
    first, last = medians[0], medians[-1]
    grown = sorted(last, key=lambda node: first.get(node, 0.0) - last[node])[:top]
    sizes = " | ".join(f"{p['factor']}x" for p in growth)
    out = [
        "",
        "Where the day's run grows with the history: the nodes whose median time grows most"
        f" from {growth[0]['factor']}x to {growth[-1]['factor']}x, and all nodes' times summed"
        " (dbt runs two at a time, so they share the two cores).",
        "",
        f"| node | {sizes} |",
        "| --- |" + " ---: |" * len(growth),
    ]
    for node in grown:
        cells = " | ".join(f"{m.get(node, 0.0):.2f}" for m in medians)
        out.append(f"| `{node.split('.')[2][:60]}` | {cells} |")
    sums = " | ".join(f"{sum(m.values()):.2f}" for m in medians)
    out.append(f"| all nodes (sum) | {sums} |")
    return out


def _machine_and_data(results: dict[str, Any]) -> list[str]:
    rows, after = results["rows_history"], results["rows_after"]
    new_items = after["raw.items"] - rows["raw.items"]
    new_fct_items = after[FCT_ITEMS] - rows[FCT_ITEMS]
    return [
        "## Machine",
        "",
        "| | |",
        "| --- | --- |",
        *[f"| {k} | {v} |" for k, v in results["machine"].items()],
        f"| benchmark wall time | {results['benchmark_seconds'] / 60:.1f} min |",
        "",
        "## Data",
        "",
        f"`DeliveryPlan.build(seed={SEED}, days={results['days'] + 1}, scale={results['scale']})`:"
        f" the first {results['days']} days are the history (landed, loaded, built by a full",
        f"refresh), day {results['new_day']} is the new day the incremental runs process. `scale`",
        "replicates orders, items and customers with derived ids. jafgen's shop grows: one year at",
        "scale 1 is about 109k order items, four years 1.75M, and a day late in the fourth year",
        "sells about 0.1% of the four years' items (in the first year's last days, 0.4%): many",
        "years at a small scale give the issue's day of about 0.1% new rows, one year at a large",
        "scale a day four times heavier.",
        "",
        "| relation | rows in history | rows after the new day |",
        "| --- | ---: | ---: |",
        *[f"| `{k}` | {v:,} | {after[k]:,} |" for k, v in rows.items()],
        "",
        f"The new day delivers {new_items:,} raw item rows "
        f"({100 * new_items / max(rows['raw.items'], 1):.2f}% of the history's), with late",
        "rows, re-sends and corrections (status changes of earlier orders); the window is the day",
        "plus the 3-day lookback. `fct_order_items` gains"
        f" {new_fct_items:,} rows ({100 * new_fct_items / max(rows[FCT_ITEMS], 1):.2f}%).",
        "",
    ]


def _times(results: dict[str, Any], summary: dict[str, Any]) -> list[str]:
    runs = results["runs"]
    out = [
        f"## Times (median of {summary['repeats']} runs; full refresh: {len(runs['full'])};"
        " each in a fresh process)",
        "",
        "| measurement | median s | runs s | peak RSS |",
        "| --- | ---: | --- | ---: |",
    ]
    measured = measured_runs(runs)
    for name, seconds in summary["times"].items():
        key = "node_seconds" if name == DBT_NODE else "seconds"
        each_text = ", ".join(f"{r[key]:.2f}" for r in measured[name])
        peak = summary["peaks"].get(name)
        out.append(f"| {name} | {seconds:.2f} | {each_text} | {gib(peak) if peak else ''} |")
    orders = "; then ".join(
        ", ".join(DAY_STEP_NAMES[name] for name in order) for order in DAY_STEP_ORDERS
    )
    if results.get("warm_up"):
        warm_up = (
            "Before the measured runs, one discarded run of each dbt step (runner, plain, floor,"
            " MERGE node) leaves its partial parse in its target folder, as a daily job finds"
            " yesterday's: "
            + ", ".join(f"{k} {v:.1f} s" for k, v in results["warm_up"].items())
            + "."
        )
    else:
        warm_up = "No warm-up run: a step's first run may re-parse the project."
    return [
        *out,
        "",
        "Times are measured inside each process around the call (`dbt.invoke`, `Runner.run`, ...),",
        "so they include dbt's start-up work and parse but not the Python interpreter's start.",
        "Peak RSS is the resident set of the measuring process and all its children, sampled",
        "every 50 ms with psutil.",
        "",
        "Every step starts with nothing left to write back and its database file out of the page",
        "cache (`posix_fadvise`): the runner's audit copy is a new file whose pages were never",
        "read, and a daily job finds a file written the day before. The day's steps swap"
        f" places from one repeat to the next ({orders}), so what a step inherits from the one"
        " before it weighs on the runner and on plain alike: each goes first, right after the"
        " MERGE steps or the full refresh, in every other repeat. " + warm_up,
        "",
    ]


def _ratios_phases_and_nodes(results: dict[str, Any], summary: dict[str, Any]) -> list[str]:
    runs, machine = results["runs"], results["machine"]
    out = [
        "## Ratios and targets",
        "",
        "| ratio | value | target | |",
        "| --- | ---: | ---: | --- |",
    ]
    for ratio in summary["ratios"]:
        out.append(
            f"| {ratio['name']} | {ratio['value']:.3f} | ≤ {ratio['target']} | "
            f"{'met' if ratio['met'] else '**missed**'} |"
        )
    memory = summary["peak_memory"]
    out.append(
        f"| peak memory, any step | {gib(memory['value'])} | ≤ 4 GiB | "
        f"{'met' if memory['met'] else '**missed**'} |"
    )
    node_times = node_medians(runs["runner"])
    slowest = sorted(node_times.items(), key=lambda kv: -kv[1])[:SLOWEST_NODES]
    return [
        *out,
        "",
        "## Where the runner's time goes (median)",
        "",
        "| phase | s |",
        "| --- | ---: |",
        *[f"| {k} | {v:.2f} |" for k, v in summary["phases"].items()],
        "",
        f"Production file size: {runs['runner'][0]['database_bytes'] / 2**30:.2f} GiB; the audit",
        f"copy was made by {machine.get('runner audit copy', 'copy')}"
        f" ({machine.get('warehouse filesystem', '?')}; `prepared`: copied after the previous"
        " publish, before the run). A byte copy of the history's",
        f"file there took {results.get('byte_copy_seconds', float('nan')):.2f} s.",
        "",
        "## Slowest nodes of the incremental build (median execution time)",
        "",
        "| node | s |",
        "| --- | ---: |",
        *[f"| `{n}` | {t:.2f} |" for n, t in slowest],
        f"| all {len(node_times)} nodes (sum; dbt runs {machine['duckdb threads']} at a time) "
        f"| {sum(node_times.values()):.2f} |",
        "",
        "## Node time by kind (median sum of node execution times, s)",
        "",
        "Node execution times summed per kind; dbt runs two nodes at a time, so the sums",
        "exceed the wall time.",
        "",
        "| kind | full refresh | incremental (runner) | no-op floor |",
        "| --- | ---: | ---: | ---: |",
        *_by_kind(runs),
        "",
        "## MERGE of fct_order_items",
        "",
        f"dbt's MERGE statement took {summary['merge']['dbt']:.3f} s (dbt's own timing of the",
        "statement, the model run alone on the day's parents) and the same statement run",
        f"directly on the same state took {summary['merge']['raw']:.3f} s.",
        "`EXPLAIN ANALYZE` of its final MERGE, after the statements before it (last run):",
        "",
        "```",
        *runs["raw"][-1]["explain_analyze"].strip().splitlines()[:60],
        "```",
        "",
    ]


def _growth(results: dict[str, Any], chart_ref: str) -> list[str]:
    growth = results["growth"]
    out = [
        "## Incremental time against history size",
        "",
        "The same new day processed by the runner on histories of 1x, 2x, 4x and 8x a base",
        f"history (scale {results['scale'] // max(p['factor'] for p in growth)} per 1x;",
        "the 8x point is the history above). Smaller histories hold fewer replicas, so some of",
        "the new day's rows are orders and items they had not seen. At the smaller sizes the"
        f" runner's time is {_runs_text(growth[0]['runner'])}, the full refresh's"
        f" {_runs_text(growth[0]['full'])}.",
        "",
        "| history | fct_order_items rows | full refresh s | incremental (runner) s | ratio |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for p in growth:
        full, inc = statistics.median(p["full"]), statistics.median(p["runner"])
        out.append(
            f"| {p['factor']}x (scale {p['scale']}) | {p['rows'][FCT_ITEMS]:,} "
            f"| {full:.2f} | {inc:.2f} | {inc / full:.3f} |"
        )
    first, last = growth[0], growth[-1]
    if len(growth) > 1:
        full_growth = statistics.median(last["full"]) / statistics.median(first["full"])
        runner_growth = statistics.median(last["runner"]) / statistics.median(first["runner"])
        flat = runner_growth <= 1.2
        out += [
            "",
            f"From {first['factor']}x to {last['factor']}x the full refresh grew"
            f" {full_growth:.1f}x and the incremental run {runner_growth:.2f}x: "
            + (
                "flat."
                if flat
                else "not flat; what still grows with the history is in the Findings."
            ),
        ]
        out += growth_nodes(growth)
    return [*out, "", f"![incremental time against history size]({chart_ref})"]


def measured_section(
    results: dict[str, Any], summary: dict[str, Any], chart: Path, docs: Path
) -> list[str]:
    """Every measured table of the page, from `## Machine` to the chart."""
    try:
        chart_ref = os.path.relpath(chart, docs.parent)
    except ValueError:  # another drive (Windows): no relative path exists
        chart_ref = str(chart)
    return [
        *_machine_and_data(results),
        *_times(results, summary),
        *_ratios_phases_and_nodes(results, summary),
        *_growth(results, chart_ref),
    ]
