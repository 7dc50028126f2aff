"""The benchmark's figures: medians of the repeated runs, the ratios against their targets."""

from __future__ import annotations

import statistics
from typing import Any

FULL_REFRESH = "1. full refresh (dbt build --full-refresh)"
RUNNER = "2. incremental: runner, one day"
FLOOR = "3. floor: no-op dbt build, same window"
PLAIN = "4. plain: load + dbt build, one day"
REFLINKED_PLAIN = "4. plain, on a reflink of the file (the audit copy's filesystem cost)"
DBT_NODE = "5. fct_order_items node in dbt"
RAW_MERGE = "5. temp relation + MERGE, raw DuckDB"
# Each measurement's runs in results["runs"], and the figure of a run it is timed by.
MEASUREMENTS: dict[str, tuple[str, str]] = {
    FULL_REFRESH: ("full", "seconds"),
    RUNNER: ("runner", "seconds"),
    FLOOR: ("noop", "seconds"),
    PLAIN: ("plain", "seconds"),
    REFLINKED_PLAIN: ("plain_reflink", "seconds"),
    DBT_NODE: ("merge_dbt", "node_seconds"),
    RAW_MERGE: ("raw", "seconds"),
}
PEAK_MEMORY_TARGET = 4 * 2**30


def median(runs: list[dict[str, Any]], key: str = "seconds") -> float:
    return statistics.median(r[key] for r in runs)


def gib(n: int) -> str:
    return f"{n / 2**30:.2f} GiB"


def measured_runs(runs: dict[str, list[dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    """Each measurement's runs, in the page's order. The reflinked plain step is left out when
    the runs lack it: a results.json of an older run re-rendered with `--report-only`."""
    return {name: runs[key] for name, (key, _) in MEASUREMENTS.items() if runs.get(key)}


def node_medians(runs: list[dict[str, Any]]) -> dict[str, float]:
    """Each node's median execution time over repeated runs of one step."""
    times: dict[str, list[float]] = {}
    for run in runs:
        for node, (_, seconds) in run["nodes"].items():
            times.setdefault(node, []).append(seconds)
    return {node: statistics.median(t) for node, t in times.items()}


def node_count(runs: list[dict[str, Any]]) -> int:
    return round(statistics.median(len(run["nodes"]) for run in runs))


def summarize(results: dict[str, Any]) -> dict[str, Any]:
    runs = results["runs"]
    measured = measured_runs(runs)
    times = {name: median(each, MEASUREMENTS[name][1]) for name, each in measured.items()}
    peaks = {name: max(r["peak_rss"] for r in each) for name, each in measured.items()}
    full, runner, plain = times[FULL_REFRESH], times[RUNNER], times[PLAIN]
    noop, raw, dbt_node = times[FLOOR], times[RAW_MERGE], times[DBT_NODE]
    merge_dbt = median(runs["merge_dbt"], "merge_seconds")
    merge_raw = median(runs["raw"], "merge_seconds")
    ratios = [
        ("2/1 incremental / full refresh", runner / full, 0.05),
        ("2/3 incremental / no-op floor", runner / noop, 1.5),
        ("4 runner / 4 plain", runner / plain, 1.05),
        ("5 dbt node / 5 raw (temp relation + MERGE)", dbt_node / raw, 1.3),
        ("5 dbt MERGE statement / raw MERGE statement", merge_dbt / merge_raw, 1.3),
    ]
    peak = max(peaks.values())
    return {
        "times": times,
        "peaks": peaks,
        "ratios": [{"name": n, "value": v, "target": t, "met": v <= t} for n, v, t in ratios],
        "peak_memory": {
            "value": peak,
            "target": PEAK_MEMORY_TARGET,
            "met": peak <= PEAK_MEMORY_TARGET,
        },
        "repeats": len(runs["runner"]),
        "phases": {
            phase: statistics.median(r["phases"].get(phase, 0.0) for r in runs["runner"])
            for phase in runs["runner"][0]["phases"]
        },
        "merge": {"dbt": merge_dbt, "raw": merge_raw},
    }


def table_text(summary: dict[str, Any]) -> str:
    """The summary for the console, at the end of a run."""
    lines = [f"{'measurement':50} {'median s':>9} {'peak RSS':>10}"]
    for name, seconds in summary["times"].items():
        peak = summary["peaks"].get(name)
        lines.append(f"{name:50} {seconds:9.2f} {gib(peak) if peak else '':>10}")
    lines.append("")
    lines.append(f"{'ratio':50} {'value':>9} {'target':>10}")
    for ratio in summary["ratios"]:
        mark = "met" if ratio["met"] else "MISSED"
        lines.append(
            f"{ratio['name']:50} {ratio['value']:9.3f} {'<= ' + str(ratio['target']):>10} {mark}"
        )
    memory = summary["peak_memory"]
    lines.append(
        f"{'peak memory (any step)':50} {gib(memory['value']):>9} {'<= 4 GiB':>10} "
        + ("met" if memory["met"] else "MISSED")
    )
    return "\n".join(lines)
