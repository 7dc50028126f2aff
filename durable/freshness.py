"""dbt's source freshness, as part of the gate: a window publishes only if no landed source is
older than its `error_after`.

After the build passes in the audit copy, `dbt source freshness` runs there on the landed
sources, with the project's own `freshness` and `loaded_at_field` (the loader's `_loaded_at`,
say). `error` stops the publish (exit 2, as a failed test does); `warn` is printed and kept in the
ledger, as is every table's status, which `durable status` shows. A table dbt cannot measure (no
row loaded yet) is reported as unknown, not failed: the overdue check (durable/overdue.py) is what
notices a delivery that never came. dbt measures against the database's clock, not DURABLE_NOW.
"""

from __future__ import annotations

from collections.abc import Iterable

from durable import dbt
from durable.config import Settings
from durable.errors import AuditFailed
from durable.sources import SourceTable

STATUS = {"pass": "pass", "warn": "warn", "error": "error", "runtime error": "unknown"}


def source_freshness(settings: Settings, tables: Iterable[SourceTable]) -> dict[str, str]:
    """Each landed table dbt measures, `source.table` -> pass | warn | error | unknown; raises
    AuditFailed when one is past its `error_after`."""
    selectors = [f"source:{name}" for name in sorted({table.source for table in tables})]
    if not selectors:
        return {}
    outcome = dbt.invoke(settings, ["source", "freshness", "--select", *selectors], quiet=True)
    statuses: dict[str, str] = {}
    stale = []
    for node in outcome.nodes:
        if node.resource_type != "source":  # the project's on-run-start hooks run too
            continue
        name = ".".join(node.unique_id.split(".")[-2:])  # source.<project>.<source>.<table>
        statuses[name] = STATUS.get(node.status, node.status)
        if node.status == "error":
            hours = (node.age_seconds or 0) / 3600
            stale.append(f"{name} (last loaded {hours:.1f} h ago)")
    if stale:
        raise AuditFailed(f"source freshness: past error_after: {', '.join(stale)}")
    if not outcome.nodes and outcome.exception is not None:
        raise AuditFailed(f"source freshness could not run: {outcome.exception}")
    return dict(sorted(statuses.items()))


def freshness_line(statuses: dict[str, str] | None) -> str:
    """What the last measure said, for the terminal: the tables that did not pass, by name."""
    if not statuses:
        return "not measured yet"
    passed = sum(1 for status in statuses.values() if status == "pass")
    other = [f"{name} {status}" for name, status in statuses.items() if status != "pass"]
    return ", ".join([*other, f"{passed} pass" if other else f"all {passed} pass"])
