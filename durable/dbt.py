"""One place that invokes dbt, through its programmatic API, and reads what happened.

`dbtRunner` runs dbt in-process (no subprocess start-up per call) and hands back the same result
objects dbt writes to run_results.json, so callers can tell a failed test from a SQL error.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date

from dbt.cli.main import dbtRunner
from dbt.contracts.graph.manifest import Manifest
from dbt_common.events.base_types import EventMsg

from durable.config import Settings
from durable.errors import BadInput

# Parsed once per process and project: the window changes with every run, and passing it as
# --vars would otherwise make dbt re-parse the whole project each time (about 2 s of 6).
_manifests: dict[tuple[str, ...], Manifest] = {}


@dataclass(frozen=True)
class NodeOutcome:
    unique_id: str
    resource_type: str
    status: str  # success | error | fail | warn | pass | skipped | no op
    message: str
    rows_affected: int | None
    execution_time: float
    age_seconds: float | None = None  # `source freshness`: how long since the source last loaded


@dataclass
class DbtOutcome:
    command: list[str]
    success: bool
    nodes: list[NodeOutcome] = field(default_factory=list)
    exception: BaseException | None = None
    invocation_id: str | None = None

    def with_status(self, *statuses: str) -> list[NodeOutcome]:
        return [n for n in self.nodes if n.status in statuses]

    @property
    def tests_passed(self) -> int:
        return sum(
            1 for n in self.nodes if n.resource_type in ("test", "unit_test") and n.status == "pass"
        )

    @property
    def tests_failed(self) -> int:
        return sum(
            1
            for n in self.nodes
            if n.resource_type in ("test", "unit_test") and n.status in ("fail", "error")
        )

    def failures(self) -> list[NodeOutcome]:
        return self.with_status("error", "fail")


def window_vars(start: date | None, end: date | None, lookback_days: int | None = None) -> dict:
    variables: dict[str, object] = {}
    if start is not None:
        variables["start_date"] = start.isoformat()
    if end is not None:
        variables["end_date"] = end.isoformat()
    if lookback_days is not None:
        variables["lookback_days"] = lookback_days
    return variables


Callback = Callable[[EventMsg], None]


def invoke(
    settings: Settings,
    args: Sequence[str],
    variables: dict | None = None,
    quiet: bool = False,
    callbacks: Sequence[Callback] = (),
) -> DbtOutcome:
    """Run one dbt command against the settings' target and collect per-node outcomes."""
    with _environment(settings):
        return _invoke(settings, args, variables, quiet, callbacks)


@contextmanager
def _environment(settings: Settings) -> Iterator[None]:
    # profiles.yml and the sources read these; set for this call only, so one with audit
    # settings (another schema, another file) never becomes the default of a later Settings().
    saved = {name: os.environ.get(name) for name in settings.dbt_environment()}
    os.environ.update(settings.dbt_environment())
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _invoke(
    settings: Settings,
    args: Sequence[str],
    variables: dict | None,
    quiet: bool,
    callbacks: Sequence[Callback],
) -> DbtOutcome:
    command = [*(["--quiet"] if quiet else []), *args, *_project_args(settings)]
    if variables:
        command += ["--vars", json.dumps(variables)]
    invocation: list[str] = []

    def remember_invocation(event: EventMsg) -> None:
        if not invocation:
            invocation.append(event.info.invocation_id)

    runner = dbtRunner(manifest=_manifest(settings), callbacks=[remember_invocation, *callbacks])
    try:
        result = runner.invoke(command)
    finally:
        release_database()
    outcome = DbtOutcome(
        command=command,
        success=result.success,
        exception=result.exception,
        invocation_id=invocation[0] if invocation else None,
    )
    for node_result in getattr(result.result, "results", None) or []:
        node = node_result.node
        response = node_result.adapter_response or {}
        outcome.nodes.append(
            NodeOutcome(
                unique_id=node.unique_id,
                resource_type=str(node.resource_type),
                status=str(node_result.status),
                message=node_result.message or "",
                rows_affected=response.get("rows_affected"),
                execution_time=node_result.execution_time,
                age_seconds=getattr(node_result, "age", None),
            )
        )
    return outcome


def list_nodes(settings: Settings, args: Sequence[str]) -> list[tuple[str, str]]:
    """`dbt ls` on the parsed project: (resource type, name) of the nodes `args` select. A
    selector dbt refuses (bad syntax, an unreadable state manifest) is bad input, in one line."""
    with _environment(settings):
        runner = dbtRunner(manifest=_manifest(settings))
        # `--quiet` still prints the list: the caller decides what the user sees.
        result = runner.invoke(
            ["--log-level", "none", "--no-write-json", "ls", *args]
            + ["--output", "json", "--output-keys", "resource_type", "name"]
            + _project_args(settings)
        )
    if not result.success:
        lines = str(result.exception or "dbt ls failed").strip().splitlines()
        raise BadInput(f"dbt ls {' '.join(args)}: {lines[-1] if lines else 'failed'}")
    nodes = (json.loads(line) for line in result.result or [])
    return sorted({(node["resource_type"], node["name"]) for node in nodes})


def _project_args(settings: Settings) -> list[str]:
    """The project, its profiles.yml and the output to use, as the settings say; no --target
    when none is set, so dbt takes the profile's own `target:`."""
    args = ["--project-dir", str(settings.project_dir)]
    args += ["--profiles-dir", str(settings.profiles_dir)]
    return args + (["--target", settings.target] if settings.target else [])


def _key(settings: Settings) -> tuple[str, ...]:
    # Relations in a manifest are qualified with the profile's database and schemas.
    return (str(settings.project_dir), *settings.dbt_environment().values())


def manifest(settings: Settings) -> Manifest | None:
    """The parsed project, once per process and settings; None when it does not parse."""
    with _environment(settings):
        return _manifest(settings)


def _manifest(settings: Settings) -> Manifest | None:
    key = _key(settings)
    if key not in _manifests:
        # No manifest.json here (a third of the parse): the build writes it, compiled.
        parsed = dbtRunner().invoke(
            ["--quiet", "parse", "--no-write-json", *_project_args(settings)]
        )
        if not parsed.success:
            return None  # let the real command report the parse error
        _manifests[key] = parsed.result
    return _manifests[key]


def forget_manifest(settings: Settings) -> None:
    """Drop the parsed project, e.g. after its files changed."""
    _manifests.pop(_key(settings), None)


def release_database() -> None:
    """Close the database dbt-duckdb keeps open for the life of the process.

    It would otherwise hold the DuckDB file after dbt returns, so the runner could not copy or
    rename it, and a second connection with other settings would be refused.
    """
    try:
        from dbt.adapters.duckdb.connections import DuckDBConnectionManager
    except ImportError:  # another adapter: nothing is held
        return
    with DuckDBConnectionManager._LOCK:
        if DuckDBConnectionManager._ENV is not None:
            DuckDBConnectionManager._ENV.close()
            DuckDBConnectionManager._ENV = None
