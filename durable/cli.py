"""The `durable` command line: `run` heals and publishes, `status` shows the ledger."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from durable.config import Settings
from durable.errors import ExitCode, RunFailure
from durable.ledger import Ledger
from durable.publish import publisher_for
from durable.runner import Runner
from durable.windows import due_dates, requested_windows

app = typer.Typer(add_completion=False, help="Durable data pipelines on dbt.")
# Logs and CI have no terminal width to wrap to: keep ledger rows on one line there.
out = Console(width=None if sys.stdout.isatty() else 200)
err = Console(stderr=True)


@app.command()
def run(
    date: Annotated[
        str | None, typer.Option("--date", help="Run this one day (YYYY-MM-DD).")
    ] = None,
    start: Annotated[str | None, typer.Option(help="First day of a range to run.")] = None,
    end: Annotated[str | None, typer.Option(help="Last day of a range to run.")] = None,
    progress: Annotated[
        str, typer.Option(help="auto (a bar on a terminal), plain, json or quiet.")
    ] = "auto",
) -> None:
    """Run the given windows, or with no window every window that is due, oldest first.

    Exit codes: 0 published; 2 tests or contracts failed (publish blocked); 3 transient faults
    outlasted the retries; 4 bad input (arguments, vars or a rejected delivery); 5 another run
    holds the lock; 6 a model failed (SQL error); 1 an internal error.
    """
    try:
        windows = requested_windows(date, start, end)
    except RunFailure as failure:
        err.print(f"[red]error[/red]: {failure}")
        raise typer.Exit(int(failure.exit_code)) from None
    report = Runner(Settings(), progress=progress).run(windows, command=_command(date, start, end))
    if report.exit_code != ExitCode.OK:
        err.print(
            f"[red]{report.exit_code.name.lower()}[/red] (run {report.run_id}): {report.failure}"
        )
        raise typer.Exit(int(report.exit_code))
    if not report.windows:
        err.print("nothing due: production holds every landed delivery")


def _command(date: str | None, start: str | None, end: str | None) -> str:
    if date:
        return f"run --date {date}"
    if start or end:
        return f"run --start {start} --end {end}"
    return "run"


@app.command()
def status(limit: int = 15) -> None:
    """Recent windows from the run ledger, and what is due."""
    settings = Settings()
    ledger = Ledger(settings.ledger_path)
    try:
        table = Table(title="run ledger (newest first)")
        for column in ("run", "window", "state", "attempts", "tests", "rows changed", "failure"):
            table.add_column(column)
        for w in ledger.windows(limit):
            window = (
                f"{w.window_start}"
                if w.window_start == w.window_end
                else f"{w.window_start}..{w.window_end}"
            )
            tests = f"{w.tests_passed or 0} passed, {w.tests_failed or 0} failed"
            changed = ", ".join(f"{k}={v}" for k, v in (w.rows_changed or {}).items())
            table.add_row(
                w.run_id, window, w.state, str(w.attempts), tests, changed, (w.failure or "")[:80]
            )
        out.print(table)
    finally:
        ledger.close()
    try:
        published = publisher_for(settings).published_files()
        due = due_dates(settings, published)
    except Exception as error:  # noqa: BLE001 - status must still show the ledger
        out.print(f"due: unknown ({error})")
        return
    out.print("due: " + (", ".join(str(d) for d in due) if due else "nothing"))


if __name__ == "__main__":
    app()
