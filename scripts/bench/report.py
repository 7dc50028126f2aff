"""docs/BENCHMARKS.md and its chart, from a run's results."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .chart import draw_chart
from .summary import summarize
from .tables import page

PROJECT_DIR = Path(__file__).resolve().parents[2]
PAGE = PROJECT_DIR / "docs" / "BENCHMARKS.md"
CHART = PROJECT_DIR / "docs" / "benchmark_incremental.png"


def write_report(results: dict[str, Any], docs: Path, chart: Path) -> dict[str, Any]:
    """Draw the chart and write the page; return the summary."""
    summary = summarize(results)
    draw_chart(results, chart)
    docs.parent.mkdir(parents=True, exist_ok=True)
    docs.write_text(page(results, summary, chart, docs))
    return summary
