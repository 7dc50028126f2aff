"""What `durable status` knows, gathered once for the terminal and for `--json`.

The JSON form is for schedulers and dashboards: its keys are documented in docs/RUNNER.md and
only ever added to; `schema_version` changes when one is renamed or removed.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date

from durable import clock
from durable.config import Settings
from durable.engines import publisher_for
from durable.landing.delivery import LandedFile
from durable.landing.zone import Finding
from durable.ledger import Ledger, VerifyRow, WindowRow, verifications
from durable.overdue import OverdueDelivery, overdue_deliveries
from durable.rollout import CodeChanges, due_code_changes
from durable.runner import as_failure
from durable.sources import load_source_tables
from durable.windows import due_dates, is_due, landing_zone

SCHEMA_VERSION = 1
FILE_STATES = ("loaded", "quarantined", "due", "held", "reported")


@dataclass(frozen=True)
class LandingEntry:
    """A file of the landing zone that is not simply loaded, and why."""

    state: str  # quarantined | due | held | reported
    path: str
    reason: str


@dataclass
class StatusReport:
    windows: list[WindowRow]
    last_verify: VerifyRow | None
    due_dates: list[date] | None = None  # None: production could not be read
    code_changes: CodeChanges = field(default_factory=CodeChanges)
    due_error: str | None = None
    landing_counts: dict[str, int] = field(default_factory=dict)
    landing_files: list[LandingEntry] = field(default_factory=list)
    overdue: list[OverdueDelivery] = field(default_factory=list)


def gather(settings: Settings, limit: int) -> StatusReport:
    """The ledger always; what is due and the landing zone when production can be read."""
    ledger = Ledger(settings.ledger_path)
    try:
        last = verifications(ledger, limit=1)
        report = StatusReport(windows=ledger.windows(limit), last_verify=last[0] if last else None)
    finally:
        ledger.close()
    try:
        publisher = publisher_for(settings)
        published = publisher.published_files()
        tables = load_source_tables(settings.project_dir)
        deliveries, findings = landing_zone(settings, tables)
        report.overdue = overdue_deliveries(tables, deliveries, clock.now())
        report.code_changes = due_code_changes(publisher.audit_settings(), settings.prod_state_dir)
    except Exception as error:  # noqa: BLE001 - status must still show the ledger
        report.due_error = str(as_failure(error))
        return report
    report.due_dates = due_dates(deliveries, published)
    report.landing_counts, report.landing_files = _landing_zone(deliveries, findings, published)
    return report


def _landing_zone(
    deliveries: list[LandedFile], findings: list[Finding], published: dict[str, tuple]
) -> tuple[dict[str, int], list[LandingEntry]]:
    """Each file is loaded, quarantined, due, held or reported: counts, and every file that is
    not simply loaded."""
    listed: list[LandingEntry] = []
    for landed in deliveries:
        held = published.get(landed.source_file)
        if is_due(landed, published):
            listed.append(LandingEntry("due", landed.source_file, ""))
        elif held[2] == "quarantined":
            listed.append(LandingEntry("quarantined", landed.source_file, held[3] or ""))
    listed += [LandingEntry(f.status, f.path, f.reason) for f in findings]
    counts = dict.fromkeys(FILE_STATES, 0)
    counts["loaded"] = len(deliveries) - sum(1 for e in listed if e.state in ("quarantined", "due"))
    for entry in listed:
        counts[entry.state] += 1
    return counts, listed


def as_json(report: StatusReport) -> dict[str, object]:
    """The documented machine-readable form (docs/RUNNER.md, "status --json")."""
    due = None
    if report.due_dates is not None:
        due = {
            "dates": [str(day) for day in report.due_dates],
            "code_changes": {
                "models": list(report.code_changes.models),
                "tests": list(report.code_changes.tests),
            },
        }
    return {
        "schema_version": SCHEMA_VERSION,
        "due": due,
        "due_error": report.due_error,
        "windows": [_window(w) for w in report.windows],
        "last_verify": asdict(report.last_verify) if report.last_verify else None,
        "overdue": [_overdue(o) for o in report.overdue],
        # dbt's source freshness as the newest window measured it (source.table -> status).
        "freshness": next((w.freshness for w in report.windows if w.freshness), None),
        "landing_zone": {
            "counts": report.landing_counts,
            "files": [asdict(entry) for entry in report.landing_files],
        },
    }


def _overdue(late: OverdueDelivery) -> dict[str, object]:
    return {
        "source": late.source,
        "table": late.table,
        "delivery_date": str(late.day),
        "due_at": late.due_at.isoformat(),
        "hours_late": round(late.late_by.total_seconds() / 3600, 1),
    }


def _window(w: WindowRow) -> dict[str, object]:
    row = asdict(w)
    row["window_start"] = str(w.window_start) if w.window_start else None
    row["window_end"] = str(w.window_end) if w.window_end else None
    return row
