"""`durable rollback`: production as it was before a publication, restored atomically.

A bad publication (a wrong delivery that passed every test, a model change that should not have
shipped) is undone without a rebuild: each publisher keeps the states its publishes replaced
(`Publisher.kept_states`) and makes one of them production again in one atomic step. It holds
the run lock, as a run does. What production holds comes from inside production, so the
deliveries of the undone windows are simply due again: the next `durable run` heals them
(or, once the cause is fixed, publishes them again).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from durable.alerts import send_alert
from durable.config import Settings
from durable.engines import publisher_for
from durable.engines.interface import KeptState
from durable.errors import BadInput, ExitCode
from durable.ledger import Ledger
from durable.lock import run_lock
from durable.runner import as_failure

ROLLBACK = "rollback"  # the ledger's window kind
ROLLED_BACK = "rolled back"  # the state of a window whose publication a rollback undid


@dataclass
class RollbackReport:
    rollback_id: str
    exit_code: ExitCode = ExitCode.OK
    restored: KeptState | None = None
    undone_runs: list[str] = field(default_factory=list)
    undone_windows: list[tuple[date, date]] = field(default_factory=list)
    failure: str | None = None

    def line(self) -> str:
        """The one line the command prints."""
        if self.exit_code != ExitCode.OK or self.restored is None:
            return f"{self.exit_code.name.lower()} (rollback {self.rollback_id}): {self.failure}"
        undone = ", ".join(self.undone_runs) or "no publication of a run"
        days = _days(self.undone_windows)
        due = f"; {days} due again" if days else ""
        return (
            f"rolled back to the state before {self.restored.replaced_by} "
            f"(kept {self.restored.kept_at}): undid {undone}{due}"
        )


def rollback(settings: Settings, before: str | None, command: str) -> RollbackReport:
    """Restore the state `before` replaced (the latest publication's when None); never raises."""
    report = RollbackReport(rollback_id=uuid.uuid4().hex[:12])
    ledger = Ledger(settings.ledger_path)
    try:
        with run_lock(settings.state_dir / "run.lock", settings.lock_timeout):
            _rollback(settings, before, command, ledger, report)
    except Exception as error:  # noqa: BLE001 - every failure ends as one line and an alert
        failure = as_failure(error)
        report.exit_code, report.failure = failure.exit_code, str(failure)
        send_alert(
            settings.alert_command,
            {
                "event": "rollback_failed",
                "rollback_id": report.rollback_id,
                "exit_code": int(report.exit_code),
                "failure": report.failure,
            },
        )
    finally:
        ledger.close()
    return report


def _rollback(
    settings: Settings, before: str | None, command: str, ledger: Ledger, report: RollbackReport
) -> None:
    publisher = publisher_for(settings)
    state = _chosen(publisher.kept_states(), before)
    published = publisher.published_runs()
    today = datetime.now(UTC).date()
    ledger.start_run(report.rollback_id, command)
    ledger.start_window(report.rollback_id, today, today, kind=ROLLBACK)
    publisher.restore(state, report.rollback_id)
    report.restored = state
    report.undone_runs = sorted(published - publisher.published_runs())
    report.undone_windows = ledger.mark_windows(report.undone_runs, ROLLED_BACK)
    # What production holds back is the restored state's now: no release to count against it.
    ledger.record_quarantine(report.rollback_id, today, today, None)
    ledger.update_window(
        report.rollback_id, today, today, state="published", rebuilt=report.undone_runs
    )
    ledger.finish_run(report.rollback_id, "succeeded", 0, None)


def _chosen(states: list[KeptState], before: str | None) -> KeptState:
    if not states:
        raise BadInput(
            "nothing to roll back to: production keeps no earlier state yet "
            "(DURABLE_KEEP_PUBLICATIONS, after the next publish)"
        )
    if before is None:
        return states[0]
    for state in states:
        if state.replaced_by == before:
            return state
    kept = ", ".join(state.replaced_by for state in states)
    raise BadInput(f"no kept state before {before!r}: production keeps the states before {kept}")


def _days(windows: list[tuple[date, date]]) -> str:
    if not windows:
        return ""
    first, last = min(s for s, _ in windows), max(e for _, e in windows)
    return str(first) if first == last else f"{first}..{last}"
