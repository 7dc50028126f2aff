"""The `durable` command line: `run` heals and publishes, `status` shows the ledger.

Whatever goes wrong ends in one line on stderr and a documented exit code, never a traceback;
text that came from a delivery (file names, header names, values) is printed literally, never
read as markup.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from durable.config import Settings
from durable.engines import publisher_for
from durable.errors import ExitCode
from durable.landing.delivery import LandedFile
from durable.landing.zone import Finding
from durable.ledger import Ledger, WindowRow
from durable.rollout import DELIVERIES, due_code_changes, due_line, names_line, requested_rollout
from durable.runner import Runner, as_failure
from durable.verify import last_verify_line, parse_scope, show, verdict, verify
from durable.windows import due_dates, is_due, landing_zone, requested_windows

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
def status(context: typer.Context, limit: int = 15) -> None:
    """Recent windows from the run ledger, what is due, and every file of the landing zone."""
    try:
        settings = _settings(context)
        _show_ledger(settings, limit)
    except Exception as error:  # noqa: BLE001 - one line, never a traceback
        err.print(f"[red]error[/red]: {escape(str(as_failure(error)))}")
        raise typer.Exit(int(ExitCode.INTERNAL_ERROR)) from None
    try:
        publisher = publisher_for(settings)
        published = publisher.published_files()
        deliveries, findings = landing_zone(settings)
        changes = due_code_changes(publisher.audit_settings(), settings.prod_state_dir)
    except Exception as error:  # noqa: BLE001 - status must still show the ledger
        out.print(Text(f"due: unknown ({as_failure(error)})"))
        return
    out.print(Text("due: " + due_line(due_dates(deliveries, published), changes)))
    _show_landing_zone(deliveries, findings, published)


def _show_ledger(settings: Settings, limit: int) -> None:
    ledger = Ledger(settings.ledger_path)
    try:
        table = Table(title="run ledger (newest first)")
        columns = ("run", "window", "state", "attempts", "tests", "rows changed", "code", "failure")
        for column in columns:
            table.add_column(column)
        for w in ledger.windows(limit):
            tests = f"{w.tests_passed or 0} passed, {w.tests_failed or 0} failed"
            changed = ", ".join(f"{k}={v}" for k, v in (w.rows_changed or {}).items())
            code = (w.code_fingerprint or "")[:12]
            cells = (w.run_id, _window_cell(w), w.state, str(w.attempts), tests, changed, code)
            cells += (w.failure or "",)
            table.add_row(*(Text(cell[:80]) for cell in cells))
        out.print(table)
        out.print(Text(last_verify_line(ledger)))
    finally:
        ledger.close()


def _window_cell(w: WindowRow) -> str:
    """The days of a delivery window, or what a rollout rebuilt and why."""
    if w.kind != DELIVERIES:
        return f"{w.kind}: {names_line(w.rebuilt)}" if w.rebuilt else w.kind
    start, end = w.window_start, w.window_end
    days = f"{start}" if start == end else f"{start}..{end}"
    return days + (f" + code: {names_line(w.rebuilt)}" if w.rebuilt else "")


def _show_landing_zone(
    deliveries: list[LandedFile], findings: list[Finding], published: dict[str, tuple]
) -> None:
    """Each file of the landing zone is loaded, quarantined, due, held or reported: counts, then
    every file that is not simply loaded, with its reason."""
    listed: list[tuple[str, str, str]] = []
    for landed in deliveries:
        held = published.get(landed.source_file)
        if is_due(landed, published):
            listed.append(("due", landed.source_file, ""))
        elif held[2] == "quarantined":
            listed.append(("quarantined", landed.source_file, held[3] or ""))
    listed += [(f.status, f.path, f.reason) for f in findings]
    counts = {state: 0 for state in ("loaded", "quarantined", "due", "held", "reported")}
    counts["loaded"] = len(deliveries) - sum(1 for s, _, _ in listed if s in ("quarantined", "due"))
    for state, _, _ in listed:
        counts[state] += 1
    out.print("landing zone: " + ", ".join(f"{n} {state}" for state, n in counts.items()))
    for state, path, reason in listed:
        out.print(Text(f"  {state:<11} {path}" + (f": {reason}" if reason else "")))


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
