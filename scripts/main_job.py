"""The main job: about 90 days of Jaffle Shop deliveries, landed and processed day by day.

Each simulated day lands that day's delivery files, loads them and builds the window with dbt,
so late rows, duplicates and corrections arrive the way they would in production. Running it
again changes nothing: files already landed and loaded are skipped and merges write no row.
"""

from __future__ import annotations

import time
from datetime import date, timedelta

import duckdb
import typer
from rich.console import Console
from rich.table import Table

from durable.config import Settings
from durable.pipeline import process_window
from durable.simulator import FIRST_DAY, DeliveryPlan

MARTS = [
    "fct_orders",
    "fct_order_items",
    "agg_daily_revenue",
    "dim_customers",
    "dim_products",
    "dim_stores",
]
console = Console()


def main(
    days: int = typer.Option(90, help="Days of deliveries to simulate and process."),
    seed: int = typer.Option(42, help="Seed of the simulated source (same seed, same data)."),
    start: str = typer.Option(FIRST_DAY.isoformat(), help="First delivery date (YYYY-MM-DD)."),
) -> None:
    settings = Settings()
    began = time.perf_counter()
    first_day = date.fromisoformat(start)
    plan = DeliveryPlan.build(seed=seed, days=days, start=first_day)
    tests_passed = files_loaded = rows_loaded = rows_rejected = 0

    with console.status("processing deliveries") as status:
        for offset in range(days):
            day = first_day + timedelta(days=offset)
            status.update(f"day {offset + 1}/{days}: {day}")
            plan.land(settings.landing_dir, only=day)
            result = process_window(settings, day, day, quiet=True)
            totals = result.load.totals()
            files_loaded += totals["files"]
            rows_loaded += totals["rows_loaded"]
            rows_rejected += totals["rows_rejected"]
            tests_passed += result.build.tests_passed
            if not result.success:
                for failure in result.build.failures():
                    console.print(
                        f"[red]{failure.status}[/red] {failure.unique_id}: {failure.message}"
                    )
                for rejected in result.load.rejected:
                    console.print(f"[red]rejected[/red] {rejected.source_file}: {rejected.message}")
                raise typer.Exit(1)

    with duckdb.connect(str(settings.duckdb_path)) as con:
        counts = {
            m: con.execute(f"select count(*) from analytics.{m}").fetchone()[0] for m in MARTS
        }
        quarantined = con.execute(
            "select reason, count(*) from analytics.quarantined_rows group by 1 order by 2 desc"
        ).fetchall()

    table = Table(title=f"{days} days processed in {time.perf_counter() - began:.1f} s")
    table.add_column("mart")
    table.add_column("rows", justify="right")
    for mart, count in counts.items():
        table.add_row(mart, f"{count:,}")
    console.print(table)
    console.print(
        f"files loaded: {files_loaded}, rows loaded: {rows_loaded:,}, "
        f"unreadable lines: {rows_rejected}, tests passed: {tests_passed:,}"
    )
    console.print(
        "quarantined rows: "
        + (", ".join(f"{reason} = {n}" for reason, n in quarantined) if quarantined else "none")
    )


if __name__ == "__main__":
    typer.run(main)
