"""What the runner needs from an engine: a loader and a publisher, and nothing else.

Each engine (DuckDB, PostgreSQL, Spark) implements both in a package of its own under
durable/engines/; the runner picks the engine once, from the target (durable/engines/__init__.py),
and never asks which one it holds. The file checks every loader applies live in durable/landing/,
which the engines call and which never calls back into them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Protocol

from durable.config import Settings
from durable.landing.accounting import LoadReport
from durable.landing.delivery import LandedFile
from durable.landing.zone import Finding
from durable.sources import SourceTable

# source_file -> (size, mtime_ns, status, message) of the version production holds.
PublishedFiles = dict[str, tuple[int, int, str, str | None]]


@dataclass(frozen=True)
class KeptState:
    """A state production was in, kept when a publication or a rollback replaced it."""

    replaced_by: str  # the run (or rollback) whose publish replaced it
    kept_at: str  # ISO time, UTC
    location: str  # where it is kept: a file, a schema, a copy


class Loader(Protocol):
    """Loads deliveries into one engine's raw tables, for the settings it was made with."""

    def load(
        self,
        tables: Sequence[SourceTable],
        deliveries: Sequence[LandedFile],
        findings: Sequence[Finding],
    ) -> LoadReport:
        """Create the missing raw and ledger tables, keep `findings` as the landing zone's other
        paths, and load each new or changed delivery (oldest first) with its ledger row, or
        quarantine it: a crash leaves a file loaded or not at all, never half."""
        ...


class Publisher(Protocol):
    """Write-audit-publish for one engine; the runner needs nothing else from it."""

    # The audit copy holds every relation of production, views included, so a build may select
    # part of the project (durable/selection.py); otherwise each build must run it all.
    copies_every_relation: bool

    def audit_settings(self) -> Settings:
        """Settings that point dbt and the loader at the audit copy."""
        ...

    def open_audit(self) -> None:
        """Make a fresh audit copy of production; raise TransientError on a lock."""
        ...

    def publish(self, run_id: str, windows: Iterable[tuple[date, date]]) -> None:
        """Swap the audit copy into production atomically, recording the publication."""
        ...

    def prepare_next_audit(self) -> None:
        """After a run that published: start readying the next run's audit copy, where making
        it at the start of that run would cost time; otherwise nothing."""
        ...

    def keep_failed(self, run_id: str) -> str | None:
        """Set the audit copy aside for inspection; return where."""
        ...

    def discard_audit(self) -> None:
        """Drop a half-built audit copy left by a dead run."""
        ...

    def published_runs(self) -> set[str]:
        """Runs whose publication production carries (to settle crashed runs)."""
        ...

    def published_files(self) -> PublishedFiles:
        """Landing files production holds, status `loaded`, `replaced` or `quarantined`."""
        ...

    def rows_changed(self, invocations: list[str]) -> dict[str, int]:
        """Rows of each model in the audit copy that these dbt invocations wrote."""
        ...

    def read_production(self, query: str) -> list[tuple]:
        """Rows of a read-only query on production (relations named `<schema>.<name>`)."""
        ...

    def literal(self, text: str) -> str:
        """`text` as a string literal of the engine's SQL."""
        ...

    def kept_states(self) -> list[KeptState]:
        """The earlier states of production a rollback can restore, newest first."""
        ...

    def restore(self, state: KeptState, rollback_id: str) -> None:
        """Make `state` production, atomically; keep the state it replaces (as replaced by
        `rollback_id`), so a rollback can itself be undone."""
        ...


@dataclass(frozen=True)
class Engine:
    """One engine: how to make its loader and its publisher for given settings."""

    name: str
    loader: Callable[[Settings], Loader]
    publisher: Callable[[Settings], Publisher]
