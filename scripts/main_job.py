"""The main job: about 90 days of Jaffle Shop deliveries, landed and published day by day.

Each simulated day lands that day's delivery files, then `durable run` heals whatever is due:
it loads the new files into an audit copy, builds and tests the window there, and publishes it
atomically. Late rows, duplicates, corrections and malformed rows arrive the way they would in
production. Running the job again changes nothing: every file is already published, so nothing
is due.
"""

from __future__ import annotations

import os
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import duckdb
import typer
from rich.console import Console
from rich.table import Table

# The reference project: this repository, wherever the job is started from. Its simulator is
# imported from the checkout (the runner's package does not install it).
PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR))

from durable.config import Settings  # noqa: E402
from durable.errors import ExitCode  # noqa: E402
from durable.runner import Runner  # noqa: E402
from jaffle_simulator import FIRST_DAY, DeliveryPlan  # noqa: E402

MARTS = (
    "fct_orders",
    "fct_order_items",
    "agg_daily_revenue",
    "dim_customers",
    "dim_products",
    "dim_stores",
)
console = Console()


def main(
    days: int = typer.Option(90, help="Days of deliveries to simulate and process."),
    seed: int = typer.Option(42, help="Seed of the simulated source (same seed, same data)."),
    start: str = typer.Option(FIRST_DAY.isoformat(), help="First delivery date (YYYY-MM-DD)."),
) -> None:
    settings = Settings(project_dir=PROJECT_DIR)
    began = time.perf_counter()
    first_day = date.fromisoformat(start)
    plan = DeliveryPlan.build(seed=seed, days=days, start=first_day)
    runner = Runner(settings, progress="quiet")
    published = tests_passed = 0

    with console.status("processing deliveries") as status:
        for offset in range(days):
            day = first_day + timedelta(days=offset)
            status.update(f"day {offset + 1}/{days}: {day}")
            plan.land(settings.landing_dir, only=day)
            # The job runs as it would have then: at 05:00 UTC the next morning, before the
            # day's deliveries are due (an expected one missing then is overdue).
            os.environ["DURABLE_NOW"] = f"{day + timedelta(days=1)}T05:00:00+00:00"
            report = runner.run()
            if report.exit_code != ExitCode.OK:
                console.print(f"[red]{report.exit_code.name.lower()}[/red]: {report.failure}")
                raise typer.Exit(int(report.exit_code))
            published += len(report.windows)
            tests_passed += sum(w.tests_passed for w in report.windows)

    schema = settings.schema
    with duckdb.connect(str(settings.duckdb_path), read_only=True) as con:
        counts = {m: con.execute(f"select count(*) from {schema}.{m}").fetchone()[0] for m in MARTS}
        accounting = con.execute(
            f"""select count(*), sum(rows_delivered), sum(rows_loaded), sum(rows_quarantined),
                sum(rows_held) from {schema}.delivery_accounting"""
        ).fetchone()
        reasons = con.execute(
            f"select reason, count(*) from {schema}.quarantined_rows group by 1 order by 2 desc"
        ).fetchall()

    table = Table(
        title=f"{days} days, {published} windows published in {time.perf_counter() - began:.0f} s"
    )
    table.add_column("mart")
    table.add_column("rows", justify="right")
    for mart, count in counts.items():
        table.add_row(mart, f"{count:,}")
    console.print(table)
    files, delivered, loaded, quarantined, held = (value or 0 for value in accounting)
    console.print(
        f"{files} files: {delivered:,} rows delivered = {loaded:,} loaded "
        f"+ {quarantined:,} quarantined ({held:,} of the loaded held for a late parent)"
    )
    for reason, count in reasons:
        console.print(f"  quarantined: {reason} = {count}")
    console.print(f"tests passed: {tests_passed:,} (every window audited before publish)")


if __name__ == "__main__":
    typer.run(main)
