"""`durable run`: heal every due window through write-audit-publish, one window at a time.

Consecutive due days are one window (durable/windows.py). For each window: copy production to a
private audit file, load the window's deliveries into it, `dbt build` there (the models,
snapshots, contracts and tests that its deliveries and the project's changes reach:
durable/selection.py), and publish by atomic rename only if everything passed.
Transient faults are retried with backoff; after one part-way through the DAG only the failed and
skipped nodes run again (`dbt retry`). Deterministic faults stop the run at once with the node and
the reason, call the alert hook, and leave production as it was.

A delivered file that cannot be loaded is quarantined by the loader and the window goes on
(unless its source says `on_bad_file: halt`); the alert hook hears of it once it is published.
Paths of the landing zone that are not deliveries (held, reported), and expected deliveries that
have not landed in time (durable/overdue.py), are alerted on once each (durable/notices.py).
Whatever stops a run, the ledger marks it failed and the alert hook is called: a bug in the
runner included, which is reported in one line like any other failure.
"""

from __future__ import annotations

import os
import shutil
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from tenacity import RetryCallState

from durable import clock, dbt, pipeline
from durable.alerts import send_alert
from durable.config import Settings
from durable.engines import engine_for
from durable.errors import (
    AuditFailed,
    BadInput,
    BuildError,
    TransientExhausted,
)
from durable.failpoints import failpoint
from durable.freshness import source_freshness
from durable.landing.accounting import FileLoad, LoadReport
from durable.landing.delivery import LandedFile
from durable.ledger import Ledger
from durable.lock import run_lock
from durable.notices import report_findings, report_overdue
from durable.overdue import overdue_deliveries
from durable.progress import NodeProgress
from durable.quarantine import held_by_file
from durable.reports import RunReport, WindowReport, as_failure, classify_failure
from durable.retry import TransientError, is_transient, policy
from durable.rollout import (
    CODE_CHANGE,
    DELIVERIES,
    FULL_REFRESH,
    Rollout,
    code_changes,
    due_code_changes,
    files_digest,
    incremental_models,
    record_files_digest,
    rollout_arguments,
    selected_models,
)
from durable.selection import build_arguments, code_fingerprint, record_unit_tests_passed
from durable.sources import SourceTable, load_source_tables
from durable.windows import batched, days_of, due_dates, landing_zone

console = Console(stderr=True, soft_wrap=True)  # one line per message, whatever the width


class Runner:
    def __init__(self, settings: Settings, progress: str = "auto") -> None:
        self.settings = settings
        self.progress = progress
        # One engine for the whole run, from the target: its publisher here, a loader for the
        # audit copy of each attempt.
        self.engine = engine_for(settings)
        self.publisher = self.engine.publisher(settings)
        self.tables: list[SourceTable] = []  # the landed tables, read once per run

    def run(
        self,
        windows: list[tuple[date, date]] | None = None,
        command: str = "run",
        full_refresh: list[str] | None = None,
    ) -> RunReport:
        """The given windows; with none, every due one (or the code, when only it changed).
        `full_refresh`: a dbt selector to roll out instead (durable/rollout.py)."""
        report = self.report = RunReport(run_id=uuid.uuid4().hex[:12])
        try:
            with run_lock(self.settings.state_dir / "run.lock", self.settings.lock_timeout):
                self._run_locked(report, windows, command, full_refresh)
            self.publisher.prepare_next_audit()
        except Exception as error:  # noqa: BLE001 - every failure ends as one line and an alert
            failure = as_failure(error)
            report.exit_code, report.failure = failure.exit_code, str(failure)
            self._alert(report)
        return report

    def _run_locked(
        self,
        report: RunReport,
        windows: list[tuple[date, date]] | None,
        command: str,
        full_refresh: list[str] | None,
    ) -> None:
        ledger = Ledger(self.settings.ledger_path)
        try:
            self._settle_crashed(ledger)
            ledger.start_run(report.run_id, command)
            try:
                self.tables = load_source_tables(self.settings.project_dir)
                deliveries, findings = landing_zone(self.settings, self.tables)
                report_findings(ledger, findings, self._send)
                overdue = overdue_deliveries(self.tables, deliveries, clock.now())
                report_overdue(ledger, overdue, self._send)
                for window in self._plan(deliveries, windows, full_refresh):
                    self._window_or_its_days(ledger, report, window)
            except Exception as error:  # noqa: BLE001 - the ledger must never say `running`
                failure = as_failure(error)
                ledger.finish_run(
                    report.run_id,
                    "failed",
                    int(failure.exit_code),
                    str(failure),
                    report.transient_retries,
                )
                raise failure from None
            ledger.finish_run(report.run_id, "succeeded", 0, None, report.transient_retries)
        finally:
            ledger.close()

    def _window_or_its_days(self, ledger: Ledger, report: RunReport, window: WindowReport) -> None:
        """Build the window; if a window of several days fails for a reason that is not
        transient (a bad delivery, a failed test), build its days one by one, so the days
        before the bad one are published, as a day-by-day run would have."""
        report.windows.append(window)
        try:
            self._window(ledger, report.run_id, window)
        except (AuditFailed, BadInput, BuildError) as failure:
            if window.start == window.end or window.rollout is not None:
                raise
            label = f"{window.start}..{window.end}"
            console.print(
                f"[yellow]batch {label} failed[/yellow] ({escape(str(failure))}): "
                "building its days one by one"
            )
            report.windows.pop()
            for day in days_of([(window.start, window.end)]):
                report.windows.append(WindowReport(day, day))
                self._window(ledger, report.run_id, report.windows[-1])

    def _settle_crashed(self, ledger: Ledger) -> None:
        crashed = ledger.settle_crashed(self._with_retries(self.publisher.published_runs))
        self._with_retries(self.publisher.discard_audit)  # a dead run's half-built copy
        for run_id in crashed:
            console.print(f"[yellow]settled run {run_id}[/yellow]: it died before finishing")

    def _plan(
        self,
        deliveries: list[LandedFile],
        windows: list[tuple[date, date]] | None,
        full_refresh: list[str] | None,
    ) -> list[WindowReport]:
        """The windows to run, or the one rollout: asked for, or due because only the code
        changed. A rollout is dated the day it runs: it covers the whole history."""
        rollout = None
        audit = self.publisher.audit_settings()
        if full_refresh is not None:
            rollout = Rollout(FULL_REFRESH, selected_models(audit, full_refresh))
        elif windows is None:
            windows = [(day, day) for day in self._due(deliveries)]
            if not windows:
                changes = due_code_changes(audit, self.settings.prod_state_dir)
                rollout = Rollout(CODE_CHANGE, changes) if changes else None
        if rollout is None:
            days = days_of(windows or [])
            return [WindowReport(s, e) for s, e in batched(days, self.settings.batch_days)]
        today = datetime.now(UTC).date()
        return [WindowReport(today, today, rollout=rollout, rebuilt=list(rollout.models))]

    def _due(self, deliveries: list[LandedFile]) -> list[date]:
        published = self._with_retries(self.publisher.published_files)
        return due_dates(deliveries, published)

    def _with_retries(self, action):  # noqa: ANN001, ANN202 - any zero-argument callable
        try:
            for attempt in policy(self.settings, on_retry=self._retrying):
                with attempt:
                    return action()
        except TransientError as error:
            raise TransientExhausted(f"gave up after retries: {error}") from None

    def _retrying(self, state: RetryCallState) -> None:
        self.report.transient_retries += 1
        error = state.outcome.exception() if state.outcome else None
        console.print(
            f"[yellow]transient[/yellow] (attempt {state.attempt_number}, retrying in "
            f"{state.upcoming_sleep:.1f} s): {error}"
        )

    def _window(self, ledger: Ledger, run_id: str, window: WindowReport) -> None:
        start, end, rollout = window.start, window.end, window.rollout
        ledger.start_window(run_id, start, end, rollout.reason if rollout else DELIVERIES)
        label = rollout.label if rollout else f"{start}" if start == end else f"{start}..{end}"
        try:
            self._with_retries(lambda: self._attempt(window, run_id, label))
            window.rows_changed = self.publisher.rows_changed(window.invocations)
            ledger.update_window(
                run_id,
                start,
                end,
                attempts=window.attempts,
                tests_passed=window.tests_passed,
                tests_failed=window.tests_failed,
                rows_changed=window.rows_changed,
                rebuilt=window.rebuilt,
                code_fingerprint=window.code_fingerprint,
                freshness=window.freshness or None,
            )
            failpoint("publish:before")
            self.publisher.publish(run_id, [(day, day) for day in days_of([(start, end)])])
            ledger.update_window(run_id, start, end, state="published")
            self._save_production_state(window)
            released = self._record_quarantine(ledger, run_id, start, end)
            quarantined = f", {len(window.quarantined)} quarantined" if window.quarantined else ""
            loaded = "" if rollout else f", {window.files_loaded} files loaded{quarantined}"
            console.print(
                f"[green]published[/green] {escape(label)}: "
                f"{window.tests_passed} tests passed, "
                f"{sum(window.rows_changed.values())} rows changed{loaded}"
            )
            if released:
                console.print(
                    f"[green]released[/green] {sum(released.values())} rows held back in "
                    f"{escape(', '.join(released))}"
                )
            self._note_older_rows(window)
            for bad in window.quarantined:
                self._send(
                    {
                        "event": "file_quarantined",
                        "run_id": run_id,
                        "source_file": bad.source_file,
                        "entity": bad.entity,
                        "delivery_date": bad.delivery_date,
                        "reason": bad.message,
                        "rows_quarantined": bad.rows_delivered,
                    }
                )
        except Exception as error:  # noqa: BLE001 - a failed window is recorded whatever failed
            failure = as_failure(error)
            kept = self.publisher.keep_failed(run_id)
            ledger.update_window(
                run_id,
                start,
                end,
                state="failed",
                attempts=window.attempts,
                tests_passed=window.tests_passed,
                tests_failed=window.tests_failed,
                failure=str(failure),
                audit_path=kept,
                rebuilt=window.rebuilt,
                code_fingerprint=window.code_fingerprint,
            )
            raise failure from None

    def _attempt(self, window: WindowReport, run_id: str, label: str) -> None:
        """One try at building the window in the audit copy; raises TransientError to retry."""
        window.attempts += 1
        audit_settings = self.publisher.audit_settings()
        resuming = bool(window.nodes)
        arguments: list[str] = []  # none: the whole project, unit tests included
        if not resuming:
            window.files_digest = files_digest(audit_settings)  # before the parse: see rollout.py
            # dbt parses the project (a second of Python) while the files are copied and loaded
            # (mostly the engine's work): the build needs both, and neither needs the other.
            with ThreadPoolExecutor(max_workers=1) as parser:
                fingerprint = parser.submit(code_fingerprint, audit_settings)
                self.publisher.open_audit()
                load = None if window.rollout else self._load(window, audit_settings)
                window.code_fingerprint = fingerprint.result()
            if window.rollout is None or window.rollout.full_refresh:
                changed = code_changes(
                    audit_settings, self.settings.prod_state_dir, window.code_fingerprint
                )
                window.rebuilt = sorted({*window.rebuilt, *changed.models})
            arguments = self._arguments(window, load)
        failpoint("build:before")
        with NodeProgress(self.progress, label) as progress:
            if resuming:  # only the failed and skipped nodes of the last attempt
                outcome = dbt.invoke(audit_settings, ["retry"], quiet=True, callbacks=[progress])
            else:
                outcome = dbt.invoke(
                    audit_settings,
                    ["build", *arguments],
                    {} if window.rollout else dbt.window_vars(window.start, window.end),
                    quiet=True,
                    callbacks=[progress],
                )
        if outcome.invocation_id:
            window.invocations.append(outcome.invocation_id)
        for node in outcome.nodes:
            window.nodes[node.unique_id] = node
        if not outcome.success:
            classify_failure(outcome, label if window.rollout else f"window {label}")
        if window.rollout is None:
            window.freshness = source_freshness(audit_settings, self.tables)
            for name, status in window.freshness.items():
                if status != "pass":
                    console.print(f"[yellow]freshness[/yellow] {escape(name)}: {status}")

    def _load(self, window: WindowReport, audit_settings: Settings) -> LoadReport:
        """Load the landed files into the audit copy; report drift and set bad files aside."""
        try:
            load = pipeline.load(audit_settings, window.end, self.engine, self.tables)
        except Exception as error:  # engines raise their own types; the message tells
            if is_transient(str(error)):
                raise TransientError(str(error)) from error
            raise
        window.files_loaded = len(load.new_files)
        for accepted in load.new_files:
            if accepted.message:  # drift the source's policy accepts: loaded, and reported
                console.print(
                    f"[yellow]warn[/yellow] {escape(accepted.source_file)}: "
                    f"{escape(accepted.message)}"
                )
        self._set_aside(window, load.quarantined)
        return load

    def _arguments(self, window: WindowReport, load: LoadReport | None) -> list[str]:
        """What follows `build`: the rollout's selection, or the window's (durable/selection.py)."""
        by_selection = self.publisher.copies_every_relation and not self.settings.build_all
        state, fingerprint = self.settings.prod_state_dir, window.code_fingerprint
        if window.rollout is not None:
            return rollout_arguments(window.rollout, state, fingerprint, by_selection)
        if self.settings.build_all or load is None:
            return []
        return build_arguments(
            load,
            window.start,
            window.end,
            state,
            fingerprint,
            by_delivery=self.publisher.copies_every_relation,
        )

    def _record_quarantine(
        self, ledger: Ledger, run_id: str, start: date, end: date
    ) -> dict[str, int]:
        """What production now holds back, per file, in the ledger; returns what the publish
        released (rows a file had held back before and no longer has)."""
        try:
            held = held_by_file(self.publisher, self.settings.schema)
        except Exception:  # noqa: BLE001 - published already; only the count is lost
            held = None  # a project without the package's quarantine model
        return ledger.record_quarantine(run_id, start, end, held)

    def _note_older_rows(self, window: WindowReport) -> None:
        """Changed incremental models built incrementally keep older rows as they were."""
        if not window.rebuilt or (window.rollout and window.rollout.full_refresh):
            return
        kept = incremental_models(self.publisher.audit_settings(), window.rebuilt)
        if kept:
            console.print(
                f"[yellow]note[/yellow] {', '.join(kept)}: incremental, so rows older than the "
                "lookback keep what the previous code wrote; to rewrite them: "
                f"durable run --full-refresh --select {' '.join(kept)}"
            )

    def _set_aside(self, window: WindowReport, quarantined: list[FileLoad]) -> None:
        """Go on without the quarantined files, unless a source must halt on one."""
        policies = {table.key: table.on_bad_file for table in self.tables}
        halting = [f for f in quarantined if policies.get((f.source, f.entity)) == "halt"]
        if halting:
            problems = "; ".join(f"{f.source_file}: {f.message}" for f in halting)
            raise BadInput(f"delivery rejected (on_bad_file: halt): {problems}")
        window.quarantined = [f for f in quarantined if f.fresh]
        for bad in window.quarantined:
            console.print(
                f"[yellow]quarantined[/yellow] {escape(bad.source_file)} "
                f"({bad.rows_delivered} rows): {escape(bad.message)}"
            )

    def _save_production_state(self, window: WindowReport) -> None:
        """Keep the manifest of what production now runs (slim CI defers to it), the
        fingerprint of the code its unit tests passed on and the digest of its files."""
        target = Path(os.environ.get("DBT_TARGET_PATH") or self.settings.project_dir / "target")
        manifest = (target if target.is_absolute() else self.settings.project_dir / target) / (
            "manifest.json"
        )
        if manifest.exists():
            self.settings.prod_state_dir.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(manifest, self.settings.prod_state_dir / "manifest.json")
        record_unit_tests_passed(window.code_fingerprint, self.settings.prod_state_dir)
        record_files_digest(window.files_digest, self.settings.prod_state_dir)

    def _send(self, payload: dict[str, object]) -> None:
        send_alert(self.settings.alert_command, payload)

    def _alert(self, report: RunReport) -> None:
        last = report.windows[-1] if report.windows else None
        self._send(
            {
                "event": "run_failed",
                "run_id": report.run_id,
                "exit_code": int(report.exit_code),
                "status": report.exit_code.name.lower(),
                "failure": report.failure,
                "window": f"{last.start}..{last.end}" if last else None,
                "attempts": last.attempts if last else None,
                "failing_nodes": [
                    n.unique_id
                    for n in (last.nodes.values() if last else [])
                    if n.status in ("error", "fail")
                ],
                "warehouse": str(self.settings.duckdb_path),
            },
        )
