"""The `durable` command line: `run` heals and publishes, `status` shows the ledger.

Whatever goes wrong ends in one line on stderr and a documented exit code, never a traceback;
text that came from a delivery (file names, header names, values) is printed literally, never
read as markup.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from durable.config import Settings
from durable.errors import BadInput, ExitCode
from durable.freshness import freshness_line
from durable.ledger import WindowRow
from durable.overdue import overdue_line
from durable.quarantine import export, quarantine, releases
from durable.report import write_report
from durable.rollback import rollback
from durable.rollout import DELIVERIES, due_line, names_line, requested_rollout
from durable.runner import Runner, as_failure
from durable.status import StatusReport, gather
from durable.status import as_json as status_json
from durable.verify import parse_scope, show, verdict, verify, verify_line
from durable.windows import requested_windows

app = typer.Typer(
    add_completion=False, pretty_exceptions_enable=False, help="Durable data pipelines on dbt."
)
# Logs and CI have no terminal width to wrap to: keep ledger rows on one line there.
out = Console(width=None if sys.stdout.isatty() else 200)
err = Console(stderr=True, soft_wrap=True)  # one line per message, whatever the width


@app.callback()
def main(
    context: typer.Context,
    project_dir: Annotated[
        Path | None,
        typer.Option(
            "--project-dir",
            envvar="DURABLE_PROJECT_DIR",
            help="The dbt project to run (default: the current directory).",
        ),
    ] = None,
    profiles_dir: Annotated[
        Path | None,
        typer.Option(
            "--profiles-dir",
            envvar="DBT_PROFILES_DIR",
            help="The folder of profiles.yml (default: the project's when it has one, else "
            "~/.dbt).",
        ),
    ] = None,
    target: Annotated[
        str | None,
        typer.Option(
            "--target",
            "-t",
            envvar="DBT_TARGET",
            help="The output of the profile to use (default: the profile's `target:`).",
        ),
    ] = None,
) -> None:
    """Durable data pipelines on dbt."""
    # Only what was given: Settings reads the rest from the environment itself.
    given = {"project_dir": project_dir, "profiles_dir": profiles_dir, "target": target}
    context.obj = {name: value for name, value in given.items() if value}


def _settings(context: typer.Context) -> Settings:
    return Settings(**context.obj)


@app.command()
def run(
    context: typer.Context,
    date: Annotated[
        str | None, typer.Option("--date", help="Run this one day (YYYY-MM-DD).")
    ] = None,
    start: Annotated[str | None, typer.Option(help="First day of a range to run.")] = None,
    end: Annotated[str | None, typer.Option(help="Last day of a range to run.")] = None,
    progress: Annotated[
        str, typer.Option(help="auto (a bar on a terminal), plain, json or quiet.")
    ] = "auto",
    full_refresh: Annotated[
        bool,
        typer.Option(
            "--full-refresh",
            help="Roll out the code: rebuild the --select models (default: all) and everything "
            "downstream from the whole history, test, publish.",
        ),
    ] = False,
    select: Annotated[
        list[str] | None,
        typer.Option("--select", "-s", help="dbt selector of the models to --full-refresh."),
    ] = None,
) -> None:
    """Run the given windows, or with no window every window that is due, oldest first (a
    change of the code alone is due too), or with --full-refresh a rollout of the code.

    Exit codes: 0 published; 2 tests or contracts failed (publish blocked); 3 transient faults
    outlasted the retries; 4 bad input (arguments, vars, a source's declaration or a rejected
    delivery); 5 another run holds the lock; 6 a model failed (SQL error); 1 an internal error.
    """
    try:
        windows = requested_windows(date, start, end)
        selector = requested_rollout(full_refresh, select or [], windows is not None)
        runner = Runner(_settings(context), progress=progress)
    except Exception as error:  # noqa: BLE001 - one line, never a traceback
        failure = as_failure(error)
        err.print(f"[red]error[/red]: {escape(str(failure))}")
        raise typer.Exit(int(failure.exit_code)) from None
    report = runner.run(windows, _command(date, start, end, selector), full_refresh=selector)
    if report.exit_code != ExitCode.OK:
        err.print(
            f"[red]{report.exit_code.name.lower()}[/red] (run {report.run_id}): "
            f"{escape(report.failure or '')}"
        )
        raise typer.Exit(int(report.exit_code))
    if not report.windows:
        err.print("nothing due: production holds every landed delivery and runs the project's code")


def _command(
    date: str | None, start: str | None, end: str | None, selector: list[str] | None
) -> str:
    if selector is not None:
        return f"run --full-refresh --select {' '.join(selector)}"
    if date:
        return f"run --date {date}"
    if start or end:
        return f"run --start {start} --end {end}"
    return "run"


@app.command()
def status(
    context: typer.Context,
    limit: int = 15,
    as_json: Annotated[
        bool, typer.Option("--json", help="One JSON document (docs/RUNNER.md) instead of tables.")
    ] = False,
) -> None:
    """Recent windows from the run ledger, what is due, and every file of the landing zone."""
    try:
        report = gather(_settings(context), limit)
    except Exception as error:  # noqa: BLE001 - one line, never a traceback
        err.print(f"[red]error[/red]: {escape(str(as_failure(error)))}")
        raise typer.Exit(int(ExitCode.INTERNAL_ERROR)) from None
    if as_json:
        print(json.dumps(status_json(report), indent=2))
        return
    _show_ledger(report)
    if report.due_dates is None:
        out.print(Text(f"due: unknown ({report.due_error})"))
        return
    out.print(Text("due: " + due_line(report.due_dates, report.code_changes)))
    out.print(Text("overdue: " + overdue_line(report.overdue)))
    measured = next((w.freshness for w in report.windows if w.freshness), None)
    out.print(Text("source freshness (last build): " + freshness_line(measured)))
    counts = report.landing_counts
    out.print("landing zone: " + ", ".join(f"{n} {state}" for state, n in counts.items()))
    for entry in report.landing_files:
        reason = f": {entry.reason}" if entry.reason else ""
        out.print(Text(f"  {entry.state:<11} {entry.path}{reason}"))


def _show_ledger(report: StatusReport) -> None:
    table = Table(title="run ledger (newest first)")
    columns = ("run", "window", "state", "attempts", "tests", "rows changed", "code", "failure")
    for column in columns:
        table.add_column(column)
    for w in report.windows:
        tests = f"{w.tests_passed or 0} passed, {w.tests_failed or 0} failed"
        changed = ", ".join(f"{k}={v}" for k, v in (w.rows_changed or {}).items())
        code = (w.code_fingerprint or "")[:12]
        cells = (w.run_id, _window_cell(w), w.state, str(w.attempts), tests, changed, code)
        cells += (w.failure or "",)
        table.add_row(*(Text(cell[:80]) for cell in cells))
    out.print(table)
    out.print(Text(verify_line(report.last_verify)))


def _window_cell(w: WindowRow) -> str:
    """The days of a delivery window, or what a rollout rebuilt and why."""
    if w.kind != DELIVERIES:
        return f"{w.kind}: {names_line(w.rebuilt)}" if w.rebuilt else w.kind
    start, end = w.window_start, w.window_end
    days = f"{start}" if start == end else f"{start}..{end}"
    batch = f" (in {w.batch})" if w.batch else ""
    return days + batch + (f" + code: {names_line(w.rebuilt)}" if w.rebuilt else "")


@app.command("report")
def report_command(
    context: typer.Context,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Where to write the page (default: the state dir)."),
    ] = None,
) -> None:
    """One self-contained HTML page of the pipeline's life: runs, windows, rows changed,
    quarantine, overdue deliveries and verify results, as charts (opens with no server)."""
    try:
        settings = _settings(context)
        written = write_report(settings, output or settings.state_dir / "report.html")
    except Exception as error:  # noqa: BLE001 - one line, never a traceback
        failure = as_failure(error)
        err.print(f"[red]error[/red]: {escape(str(failure))}")
        raise typer.Exit(int(failure.exit_code)) from None
    out.print(Text(f"wrote {written}"))


@app.command("rollback")
def rollback_command(
    context: typer.Context,
    before: Annotated[
        str | None,
        typer.Option(
            "--before",
            help="Restore production as it was before this run's publication "
            "(default: before the latest).",
        ),
    ] = None,
) -> None:
    """Restore an earlier state of production, atomically, under the run lock.

    The deliveries of the windows it undoes are due again: the next `durable run` heals them.
    Exit codes: 0 restored; 4 nothing kept or no such run; 5 a run holds the lock.
    """
    command = "rollback" + (f" --before {before}" if before else "")
    report = rollback(_settings(context), before, command)
    if report.exit_code != ExitCode.OK:
        err.print(Text(report.line()))
        raise typer.Exit(int(report.exit_code))
    out.print(Text(report.line()))


@app.command("quarantine")
def quarantine_command(
    context: typer.Context,
    source_file: Annotated[
        str | None,
        typer.Option("--file", help="One delivery, as the landing zone names it (orders/dt=...)."),
    ] = None,
    export_to: Annotated[
        Path | None,
        typer.Option("--export", help="Write the file's quarantined rows, as delivered, to a CSV."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON document.")] = False,
) -> None:
    """What production holds back: rows by source, file, day and reason; a file's bad rows."""
    try:
        settings = _settings(context)
        if export_to is not None:
            if not source_file:
                raise BadInput("--export needs --file: the delivery whose rows to export")
            count = export(settings, source_file, export_to)
            out.print(Text(f"exported {count} rows of {source_file} to {export_to}"))
            return
        report = quarantine(settings, source_file)
        released = releases(settings)
    except Exception as error:  # noqa: BLE001 - one line, never a traceback
        failure = as_failure(error)
        err.print(Text(f"error: {failure}"))
        raise typer.Exit(int(failure.exit_code)) from None
    if as_json:
        print(json.dumps({**report.as_json(), "released": released}, indent=2))
        return
    table = Table(title="quarantine (delivery_accounting's numbers)")
    for column in ("source", "file", "day", "status", "reason", "rows"):
        table.add_column(column)
    for g in report.groups:
        cells = (g.entity, g.source_file, g.delivery_date, g.status, g.reason, str(g.rows))
        table.add_row(*(Text(cell) for cell in cells))
    out.print(table)
    totals = report.totals()
    out.print(
        Text(
            f"{totals['rejected']} rows rejected, {totals['held']} held "
            f"(delivery_accounting: {report.accounted_quarantined} quarantined, "
            f"{report.accounted_held} held)"
        )
    )
    for row in released[:10]:
        out.print(
            Text(
                f"released by run {row['run_id']} ({row['window']}): {row['rows']} rows of "
                f"{row['source_file']}"
            )
        )


@app.command("verify")
def verify_command(
    context: typer.Context,
    date: Annotated[
        str | None, typer.Option("--date", help="Compare the rows of this day (YYYY-MM-DD).")
    ] = None,
    start: Annotated[str | None, typer.Option(help="First day of a window to compare.")] = None,
    end: Annotated[str | None, typer.Option(help="Last day of a window to compare.")] = None,
    sample_keys: Annotated[
        str | None,
        typer.Option(help="Compare a fixed sample of keys: a number (1000) or a fraction (0.05)."),
    ] = None,
    show_keys: Annotated[
        int, typer.Option("--show", help="Differing keys shown per relation.")
    ] = 10,
) -> None:
    """Rebuild every model and snapshot from the landed files in a scratch warehouse and compare
    it with production, relation by relation; production is only read.

    Exit codes: 0 production matches the rebuild; 7 drift (the alert hook is called); 4 bad
    input or an engine it does not support yet; 6 the rebuild failed; 5 another verify is
    running; 1 an internal error.
    """
    try:
        scope = parse_scope(date, start, end, sample_keys, show_keys)
        settings = _settings(context)
    except Exception as error:  # noqa: BLE001 - one line, never a traceback
        failure = as_failure(error)
        err.print(f"[red]error[/red]: {escape(str(failure))}")
        raise typer.Exit(int(failure.exit_code)) from None
    report = verify(settings, scope)
    show(report, out)
    if report.exit_code not in (ExitCode.OK, ExitCode.DRIFT):
        err.print(Text(verdict(report), style="red"))
    if report.exit_code != ExitCode.OK:
        raise typer.Exit(int(report.exit_code))


if __name__ == "__main__":
    app()
