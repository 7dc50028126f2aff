"""Land simulated daily Jaffle Shop deliveries: a thin CLI over `jaffle_simulator`."""

from __future__ import annotations

import sys
import time
from collections import Counter
from dataclasses import asdict
from datetime import date, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

# The simulator lives in the checkout, beside this script; the runner's package does not install it.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from jaffle_simulator import DeliveryPlan  # noqa: E402
from jaffle_simulator.source import DEFAULT_CACHE_DIR  # noqa: E402

app = typer.Typer(add_completion=False)


@app.command()
def main(
    seed: Annotated[int, typer.Option(help="Seed for jafgen and for the mess.")] = 42,
    days: Annotated[int, typer.Option(help="Simulated days from 2018-09-01.")] = 90,
    landing: Annotated[Path, typer.Option(help="Landing directory.")] = Path("data/landing"),
    through: Annotated[
        datetime | None, typer.Option(formats=["%Y-%m-%d"], help="Land deliveries up to this date.")
    ] = None,
    scale: Annotated[int, typer.Option(min=1, help="Copies of customers/orders/items.")] = 1,
    manifest: Annotated[
        Path | None, typer.Option(help="Write stats and faults as JSON (outside the landing dir).")
    ] = None,
    cache_dir: Annotated[Path, typer.Option(help="jafgen output cache.")] = DEFAULT_CACHE_DIR,
) -> None:
    """Build the delivery plan for SEED and DAYS and land it (idempotently) under LANDING."""
    started = time.perf_counter()
    plan = DeliveryPlan.build(seed=seed, days=days, scale=scale, cache_dir=cache_dir)
    limit: date | None = through.date() if through else None
    written = plan.land(landing, through=limit)
    if manifest:
        plan.write_manifest(manifest)
    totals: dict[str, Counter[str]] = {}
    for (entity, day), stats in plan.stats.items():
        if limit is None or day <= limit:
            totals.setdefault(entity, Counter()).update({"files": 1, **asdict(stats)})
    table = Table(title=f"Deliveries landed in {landing} (seed {seed}, {days} days, scale {scale})")
    columns = ["files", "rows", "late", "duplicates_in_file", "resent", "corrections", "malformed"]
    labels = ["files", "rows", "late", "dups", "resent", "corrected", "malformed"]
    table.add_column("entity")
    for label in labels:
        table.add_column(label, justify="right")
    for entity, counts in totals.items():
        table.add_row(entity, *(f"{counts[c]:,}" for c in columns))
    console = Console()
    console.print(table)
    console.print(
        f"{len(written)} files written, {len(plan.faults)} faults injected, "
        f"{sum(plan.undelivered.values())} versions due after the last day; "
        f"{time.perf_counter() - started:.1f}s"
    )


if __name__ == "__main__":
    app()
