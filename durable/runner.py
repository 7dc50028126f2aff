"""`durable run`: heal every due window through write-audit-publish, one window at a time.

For each window: copy production to a private audit file, load the window's deliveries into it,
`dbt build` there (the models, snapshots, contracts and tests that its deliveries and the project's
changes reach: durable/selection.py), and publish by atomic rename only if everything passed.
Transient faults are retried with backoff; after one part-way through the DAG only the failed and
skipped nodes run again (`dbt retry`). Deterministic faults stop the run at once with the node and
the reason, call the alert hook, and leave production as it was.

A delivered file that cannot be loaded is quarantined by the loader and the window goes on
(unless its source says `on_bad_file: halt`); the alert hook hears of it once it is published.
Paths of the landing zone that are not deliveries (held, reported) are alerted on once each.
Whatever stops a run, the ledger marks it failed and the alert hook is called: a bug in the
runner included, which is reported in one line like any other failure.
"""

from __future__ import annotations

import os
import shutil
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from tenacity import RetryCallState

from durable import dbt, pipeline
from durable.alerts import send_alert
from durable.config import Settings
from durable.engines import engine_for
from durable.errors import (
    AuditFailed,
    BadInput,
    BuildError,
    ExitCode,
    RunFailure,
    TransientExhausted,
)
from durable.failpoints import failpoint
from durable.landing.accounting import FileLoad
from durable.landing.delivery import LandedFile
from durable.landing.zone import Finding
from durable.ledger import Ledger
from durable.lock import run_lock
from durable.progress import NodeProgress
from durable.retry import TransientError, is_transient, policy
from durable.selection import build_arguments, code_fingerprint, record_unit_tests_passed
from durable.sources import SourceTable, load_source_tables
from durable.windows import due_dates, landing_zone

console = Console(stderr=True, soft_wrap=True)  # one line per message, whatever the width
TEST_TYPES = ("test", "unit_test")


@dataclass
class WindowReport:
    start: date
    end: date
    attempts: int = 0
    nodes: dict[str, dbt.NodeOutcome] = field(default_factory=dict)
    invocations: list[str] = field(default_factory=list)
    rows_changed: dict[str, int] = field(default_factory=dict)
    files_loaded: int = 0
    quarantined: list[FileLoad] = field(default_factory=list)  # files set aside by this load
    code_fingerprint: str | None = None  # of the code built: production records it on publish

    @property
    def tests_passed(self) -> int:
        return sum(
            1 for n in self.nodes.values() if n.resource_type in TEST_TYPES and n.status == "pass"
        )

    @property
    def tests_failed(self) -> int:
        return sum(
            1
            for n in self.nodes.values()
            if n.resource_type in TEST_TYPES and n.status in ("fail", "error")
        )


@dataclass
class RunReport:
    run_id: str
    windows: list[WindowReport] = field(default_factory=list)
    exit_code: ExitCode = ExitCode.OK
    failure: str | None = None
    transient_retries: int = 0


def as_failure(error: Exception) -> RunFailure:
    """Any exception as a run failure of one line; a bug in the runner is an internal error."""
    if isinstance(error, RunFailure):
        return error
    lines = str(error).strip().splitlines()
    return RunFailure(f"internal error: {type(error).__name__}: {lines[0] if lines else ''}")


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
        self, windows: list[tuple[date, date]] | None = None, command: str = "run"
    ) -> RunReport:
        report = self.report = RunReport(run_id=uuid.uuid4().hex[:12])
        try:
            with run_lock(self.settings.state_dir / "run.lock", self.settings.lock_timeout):
                self._run_locked(report, windows, command)
        except Exception as error:  # noqa: BLE001 - every failure ends as one line and an alert
            failure = as_failure(error)
            report.exit_code, report.failure = failure.exit_code, str(failure)
            self._alert(report)
        return report

    def _run_locked(
        self, report: RunReport, windows: list[tuple[date, date]] | None, command: str
    ) -> None:
        ledger = Ledger(self.settings.ledger_path)
        try:
            self._settle_crashed(ledger)
            ledger.start_run(report.run_id, command)
            try:
                self.tables = load_source_tables(self.settings.project_dir)
                deliveries, findings = landing_zone(self.settings, self.tables)
                self._report_findings(ledger, findings)
                if windows is None:
                    windows = [(day, day) for day in self._due(deliveries)]
                for start, end in windows:
                    window = WindowReport(start, end)
                    report.windows.append(window)
                    self._window(ledger, report.run_id, window)
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

    def _settle_crashed(self, ledger: Ledger) -> None:
        crashed = ledger.settle_crashed(self._with_retries(self.publisher.published_runs))
        self._with_retries(self.publisher.discard_audit)  # a dead run's half-built copy
        for run_id in crashed:
            console.print(f"[yellow]settled run {run_id}[/yellow]: it died before finishing")

    def _report_findings(self, ledger: Ledger, findings: list[Finding]) -> None:
        """Warn of, and alert once on, each landing-zone path that is held or reported."""
        current = [(f.path, f.status, f.reason) for f in findings]
        for path, status, reason in ledger.new_findings(current):
            console.print(f"[yellow]{status}[/yellow] {escape(path)}: {escape(reason)}")
            self._send(
                {
                    "event": f"landing_file_{status}",
                    "path": path,
                    "status": status,
                    "reason": reason,
                }
            )

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
        start, end = window.start, window.end
        ledger.start_window(run_id, start, end)
        label = f"{start}" if start == end else f"{start}..{end}"
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
            )
            failpoint("publish:before")
            self.publisher.publish(run_id, [(start, end)])
            ledger.update_window(run_id, start, end, state="published")
            self._save_production_state(window.code_fingerprint)
            quarantined = f", {len(window.quarantined)} quarantined" if window.quarantined else ""
            console.print(
                f"[green]published[/green] {label}: {window.tests_passed} tests passed, "
                f"{sum(window.rows_changed.values())} rows changed, "
                f"{window.files_loaded} files loaded{quarantined}"
            )
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
            )
            raise failure from None

    def _attempt(self, window: WindowReport, run_id: str, label: str) -> None:
        """One try at building the window in the audit copy; raises TransientError to retry."""
        window.attempts += 1
        audit_settings = self.publisher.audit_settings()
        resuming = bool(window.nodes)
        arguments: list[str] = []  # none: the whole project, unit tests included
        if not resuming:
            # dbt parses the project (a second of Python) while the files are copied and loaded
            # (mostly the engine's work): the build needs both, and neither needs the other.
            with ThreadPoolExecutor(max_workers=1) as parser:
                fingerprint = parser.submit(code_fingerprint, audit_settings)
                self.publisher.open_audit()
                try:
                    load = pipeline.load(audit_settings, window.end, self.engine, self.tables)
                except Exception as error:  # engines raise their own types; the message tells
                    if is_transient(str(error)):
                        raise TransientError(str(error)) from error
                    raise
                window.code_fingerprint = fingerprint.result()
            window.files_loaded = len(load.new_files)
            for accepted in load.new_files:
                if accepted.message:  # drift the source's policy accepts: loaded, and reported
                    console.print(
                        f"[yellow]warn[/yellow] {escape(accepted.source_file)}: "
                        f"{escape(accepted.message)}"
                    )
            self._set_aside(window, load.quarantined)
            if not self.settings.build_all:
                arguments = build_arguments(
                    load,
                    window.start,
                    window.end,
                    self.settings.prod_state_dir,
                    window.code_fingerprint,
                    by_delivery=self.publisher.copies_every_relation,
                )
        failpoint("build:before")
        with NodeProgress(self.progress, label) as progress:
            if resuming:  # only the failed and skipped nodes of the last attempt
                outcome = dbt.invoke(audit_settings, ["retry"], quiet=True, callbacks=[progress])
            else:
                outcome = dbt.invoke(
                    audit_settings,
                    ["build", *arguments],
                    dbt.window_vars(window.start, window.end),
                    quiet=True,
                    callbacks=[progress],
                )
        if outcome.invocation_id:
            window.invocations.append(outcome.invocation_id)
        for node in outcome.nodes:
            window.nodes[node.unique_id] = node
        if outcome.success:
            return
        self._classify(outcome, label)

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

    def _classify(self, outcome: dbt.DbtOutcome, label: str) -> None:
        failures = outcome.failures()
        if not failures:
            message = str(outcome.exception or "dbt failed before running any node")
            if is_transient(message):
                raise TransientError(message)
            raise BadInput(f"window {label}: {message}")
        transient = [n for n in failures if is_transient(n.message)]
        if transient:
            raise TransientError("; ".join(f"{n.unique_id}: {n.message}" for n in transient))
        described = "; ".join(f"{n.unique_id}: {_reason(n.message)}" for n in failures)
        models = [n for n in failures if n.resource_type not in TEST_TYPES]
        contract = [n for n in models if "contract" in n.message.lower()]
        if models and len(contract) < len(models):
            raise BuildError(f"window {label}: build error in {described}")
        raise AuditFailed(f"window {label}: audit failed, publish blocked: {described}")

    def _save_production_state(self, code_fingerprint: str | None) -> None:
        """Keep the manifest of what production now runs (slim CI defers to it) and the
        fingerprint of the code its unit tests passed on."""
        target = Path(os.environ.get("DBT_TARGET_PATH") or self.settings.project_dir / "target")
        manifest = (target if target.is_absolute() else self.settings.project_dir / target) / (
            "manifest.json"
        )
        if manifest.exists():
            self.settings.prod_state_dir.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(manifest, self.settings.prod_state_dir / "manifest.json")
        record_unit_tests_passed(code_fingerprint, self.settings.prod_state_dir)

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


def _reason(message: str) -> str:
    """The line of a dbt node message that says what went wrong, not where."""
    lines = [line.strip() for line in message.strip().splitlines() if line.strip()]
    for line in lines:
        if not line.endswith(")") or " Error in " not in line:
            return line
    return lines[0] if lines else "failed"
