"""The benchmark at a tiny scale: every measurement runs, every ratio is reported, the chart drawn.

The real benchmark (`make bench`) takes about half an hour and is not part of `make test`; this only
proves the script works end to end, so a change to the runner or the models cannot break it.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

from conftest import PROJECT_DIR


def _benchmark_module():
    spec = importlib.util.spec_from_file_location(
        "benchmark", PROJECT_DIR / "scripts" / "benchmark.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # which puts scripts/ on sys.path, for its package `bench`
    return module


def test_benchmark_writes_the_report_with_every_ratio_and_the_chart(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The benchmark points dbt at its own target folder; give the setting back afterwards.
    for name in (
        "DBT_TARGET_PATH",
        "DBT_LOG_PATH",
        "BENCH_LANDING",
        "DURABLE_DUCKDB_MEMORY_LIMIT",
        "DURABLE_DUCKDB_THREADS",
        "DBT_THREADS",
        "DURABLE_KEEP_PUBLICATIONS",
        "DURABLE_PREPARE_AUDIT_COPY",
    ):
        monkeypatch.setenv(name, os.environ.get(name, ""))
        monkeypatch.delenv(name)
    benchmark = _benchmark_module()
    from bench import machine, measure
    from bench.catchup import CatchUp
    from bench.summary import REFLINKED_PLAIN

    docs, chart = tmp_path / "BENCHMARKS.md", tmp_path / "chart.png"
    outcome = benchmark.run_benchmark(
        workdir=tmp_path / "bench",
        days=3,
        scale=2,
        repeats=1,
        growth=[1],
        growth_repeats=1,
        memory_limit="1GB",
        threads=1,
        docs=docs,
        chart=chart,
        log=lambda _: None,
        rundir=tmp_path / "run",  # the measured warehouse files, apart from the cached data
        catchup=CatchUp(days=2, scale=2, missing=3),
    )
    summary = outcome["summary"]
    names = [ratio["name"] for ratio in summary["ratios"]]
    for prefix in ("2/1", "2/3", "4 runner / 4 plain", "5 dbt node", "5 dbt MERGE"):
        assert any(name.startswith(prefix) for name in names), prefix
    assert all(ratio["value"] > 0 for ratio in summary["ratios"])
    assert summary["peak_memory"]["value"] > 0
    text = docs.read_text()
    for heading in ("## Machine", "## Ratios and targets", "## Incremental time against history"):
        assert heading in text
    for ratio in names:
        assert ratio in text
    assert "dbt-duckdb" in text and "duckdb memory_limit" in text
    copy_methods = {run["copy_method"] for run in outcome["results"]["runs"]["runner"]}
    # Each run builds in a reflink, or in the byte copy made after the publish before it.
    assert copy_methods in ({"reflink"}, {"prepared"}), copy_methods
    assert f"warehouse filesystem | {machine.filesystem(tmp_path)}" in text
    assert (tmp_path / "run" / "s2" / "warehouse.duckdb").exists()
    assert [p["factor"] for p in outcome["results"]["growth"]] == [1]
    # One discarded run of each dbt step leaves its partial parse, and the page says so.
    assert set(outcome["results"]["warm_up"]) == set(measure.DBT_STEPS)
    assert set(measure.DBT_STEPS) == {"runner", "plain", "noop", "plain_reflink", "merge_dbt"}
    # The day's steps swap places between repeats: the runner and plain each go first in one
    # order (the first step pays for what the MERGE steps left); the floor always re-runs the
    # file plain just left.
    assert [order[0] for order in measure.DAY_STEP_ORDERS] == ["runner", "plain"]
    for order in measure.DAY_STEP_ORDERS:
        assert sorted(order) == sorted(set(measure.DBT_STEPS) - {"merge_dbt"})
        assert order[order.index("plain") + 1] == "noop"
    # Plain on a reflink of its file, as the runner builds: the filesystem's part of the overhead.
    assert REFLINKED_PLAIN in text
    assert "one discarded run of each dbt step" in text
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # The plan shown is the strategy's MERGE, not the first statement of its script.
    assert "Merge Into" in outcome["results"]["runs"]["raw"][-1]["explain_analyze"]
    # The catch-up: the missing days healed by one bare run as one window, against one day.
    catchup = outcome["results"]["catchup"]
    first, last = catchup["missing"]
    assert [run["windows"] for run in catchup["runs"]["catch-up"]] == [[f"{first}..{last}"]]
    assert [run["windows"] for run in catchup["runs"]["one day"]] == [[first]]
    assert "| 3 days / one day |" in text and "Not measured yet" not in text


def test_growth_table_lists_the_nodes_that_grow_most_with_the_history() -> None:
    _benchmark_module()
    from bench.tables import growth_nodes

    model, test = "model.jaffle_shop.fct_orders", "test.jaffle_shop.unique_fct_orders_id.1a2b3c"
    flat = "model.jaffle_shop.dim_stores"

    def point(factor: int, runs: list[dict[str, float]]) -> dict:
        return {
            "factor": factor,
            "runner_nodes": [{node: ["success", s] for node, s in run.items()} for run in runs],
        }

    growth = [
        point(1, [{model: 1.0, test: 0.2, flat: 0.5}, {model: 1.2, test: 0.2, flat: 0.5}]),
        point(8, [{model: 3.0, test: 0.9, flat: 0.5}, {model: 3.4, test: 0.7, flat: 0.5}]),
    ]
    lines = growth_nodes(growth, top=2)
    rows = [line for line in lines if line.startswith("| `")]
    # Medians per size, largest growth first; the node that did not grow is left out.
    assert rows == ["| `fct_orders` | 1.10 | 3.20 |", "| `unique_fct_orders_id` | 0.20 | 0.80 |"]
    assert "| all nodes (sum) | 1.80 | 4.50 |" in lines
    # Figures kept before the nodes were recorded at every size: no table rather than a wrong one.
    assert growth_nodes([{"factor": 1, "runner_nodes": []}, growth[1]]) == []
