"""What a run reports: per window (or rollout), per node, and how the run ended.

The runner fills these in as it goes; the CLI, the ledger and the alert hook read them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from durable import dbt
from durable.errors import AuditFailed, BadInput, BuildError, ExitCode, RunFailure
from durable.landing.accounting import FileLoad
from durable.retry import TransientError, is_transient
from durable.rollout import Rollout

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
    files_digest: str | None = None  # of the files it was read from (durable/rollout.py)
    rollout: Rollout | None = None  # a build of the code, not of the window's deliveries
    rebuilt: list[str] = field(default_factory=list)  # what the code changed, or the rollout named
    freshness: dict[str, str] = field(default_factory=dict)  # source.table -> dbt's status

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


def classify_failure(outcome: dbt.DbtOutcome, label: str) -> None:
    """Raise the failure a failed build is, by its nodes: transient (retried), bad input, a
    build error (SQL) or a failed audit (tests, contracts)."""
    failures = outcome.failures()
    if not failures:
        message = str(outcome.exception or "dbt failed before running any node")
        if is_transient(message):
            raise TransientError(message)
        raise BadInput(f"{label}: {message}")
    transient = [n for n in failures if is_transient(n.message)]
    if transient:
        raise TransientError("; ".join(f"{n.unique_id}: {n.message}" for n in transient))
    described = "; ".join(f"{n.unique_id}: {_reason(n.message)}" for n in failures)
    models = [n for n in failures if n.resource_type not in TEST_TYPES]
    contract = [n for n in models if "contract" in n.message.lower()]
    if models and len(contract) < len(models):
        raise BuildError(f"{label}: build error in {described}")
    raise AuditFailed(f"{label}: audit failed, publish blocked: {described}")


def _reason(message: str) -> str:
    """The line of a dbt node message that says what went wrong, not where."""
    lines = [line.strip() for line in message.strip().splitlines() if line.strip()]
    for line in lines:
        if not line.endswith(")") or " Error in " not in line:
            return line
    return lines[0] if lines else "failed"
