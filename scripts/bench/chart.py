"""The page's chart: the full refresh and the runner's day against the history's size."""

from __future__ import annotations

import statistics
from pathlib import Path
from typing import Any

from .history import FCT_ITEMS


def draw_chart(results: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")  # a file, never a window: the benchmark runs headless
    import matplotlib.pyplot as plt

    points = results["growth"]
    rows = [p["rows"][FCT_ITEMS] for p in points]
    full = [statistics.median(p["full"]) for p in points]
    runner = [statistics.median(p["runner"]) for p in points]
    figure, axis = plt.subplots(figsize=(7, 4.2), dpi=120)
    axis.plot(rows, full, "o-", label="full refresh (dbt build --full-refresh)")
    axis.plot(rows, runner, "s-", label="incremental: runner, one new day")
    for p, x, y in zip(points, rows, runner, strict=True):
        axis.annotate(
            f"{p['factor']}x",
            (x, y),
            textcoords="offset points",
            xytext=(0, 6),
            ha="center",
            fontsize=8,
        )
    axis.set_xlabel("order items in history (fct_order_items rows)")
    axis.set_ylabel("seconds (median)")
    axis.set_title("Incremental run time against history size")
    axis.set_ylim(bottom=0)
    axis.set_xlim(left=0)
    axis.grid(alpha=0.3)
    axis.legend()
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path)
    plt.close(figure)
