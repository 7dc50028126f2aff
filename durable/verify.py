"""`durable verify`: production checks itself against a rebuild from the landed files.

Production is the sum of many incremental windows; a full refresh of the same deliveries must
hold the same rows. When it does not, something changed production behind the runner's back (a
hand-made fix, a restored backup, a bug in an incremental strategy), and every later window
builds on it. The check loads the deliveries production holds into a scratch file with the
runner's own loader (so files are quarantined exactly as they were), rebuilds every model and
snapshot there in full, and compares relation by relation: count and checksum, then the keys
that differ. Production is opened read-only, once: a publish meanwhile renames a new file over
it, and the check goes on reading the version it opened.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import duckdb
from dbt.contracts.graph.manifest import Manifest
from rich.console import Console
from rich.table import Table
from rich.text import Text

from durable import dbt
from durable.alerts import send_alert
from durable.config import Settings
from durable.engines import adapter_type, engine_for, publisher_for
from durable.engines.duckdb.compare import DuckDBSide
from durable.engines.duckdb.loader import published_files
from durable.engines.duckdb.publisher import require_profile_builds_in
from durable.engines.interface import PublishedFiles
from durable.errors import BadInput, BuildError, ExitCode, TransientExhausted
from durable.ledger import Ledger, VerifyRow, now, record_verification
from durable.lock import run_lock
from durable.relations import published_relations
from durable.retry import is_transient
from durable.runner import as_failure
from durable.sources import load_source_tables
from durable.verify_relation import RelationResult, Scope, compare_relation
from durable.windows import is_due, landing_zone, requested_windows

# Scratch schemas of a PostgreSQL check: `analytics__verify` beside `analytics`.
SCRATCH_SUFFIX = "__verify"

__all__ = ["Scope", "VerifyReport", "verify_line", "parse_scope", "show", "verify"]


@dataclass
class VerifyReport:
    verify_id: str
    scope: Scope
    results: list[RelationResult] = field(default_factory=list)
    exit_code: ExitCode = ExitCode.OK
    failure: str | None = None
    left_out: int = 0  # deliveries production does not hold yet: not part of the rebuild
    kept: str | None = None  # the rebuilt file, kept on drift for inspection

    @property
    def drifted(self) -> list[RelationResult]:
        return [r for r in self.results if r.drifted]


def parse_scope(
    on: str | None, start: str | None, end: str | None, sample: str | None, show: int
) -> Scope:
    """The command line's window, sample and number of keys shown, checked."""
    windows = requested_windows(on, start, end) or []
    if show < 0:
        raise BadInput(f"invalid --show {show}: a number of keys, 0 or more")
    return Scope(
        start=windows[0][0] if windows else None,
        end=windows[-1][1] if windows else None,
        sample=_parse_sample(sample),
        show=show,
    )


def _parse_sample(text: str | None) -> float | int | None:
    if not text:
        return None
    problem = f"invalid --sample-keys {text!r}: a number of keys (1000) or a fraction (0.05, 5%)"
    try:
        if text.endswith("%"):
            value = float(text[:-1]) / 100
        elif any(mark in text for mark in ".eE"):
            value = float(text)
        else:
            keys = int(text)
            if keys < 1:
                raise BadInput(problem)
            return keys
    except ValueError:
        raise BadInput(problem) from None
    if not 0 < value <= 1:
        raise BadInput(problem)
    return value


def verify(settings: Settings, scope: Scope) -> VerifyReport:
    """Rebuild, compare, then record the result and alert on drift or failure; never raises."""
    report = VerifyReport(verify_id=uuid.uuid4().hex[:12], scope=scope)
    started = now()
    try:
        with run_lock(settings.state_dir / "verify.lock", settings.lock_timeout):
            _verify(settings, scope, report)
    except Exception as error:  # noqa: BLE001 - every failure ends as one line and an alert
        failure = as_failure(error)
        report.exit_code, report.failure = failure.exit_code, str(failure)
    if report.exit_code == ExitCode.OK and report.drifted:
        report.exit_code = ExitCode.DRIFT
    _record(settings, report, started)
    if report.exit_code != ExitCode.OK:
        send_alert(settings.alert_command, _alert_payload(settings, report))
    return report


def _verify(settings: Settings, scope: Scope, report: VerifyReport) -> None:
    engine = adapter_type(settings)
    if engine == "duckdb":
        _verify_duckdb(settings, scope, report)
    elif engine == "postgres":
        _verify_postgres(settings, scope, report)
    else:
        raise BadInput(
            f"durable verify is not supported on {engine} (DuckDB and PostgreSQL only; "
            "docs/RUNNER.md says what to do instead)"
        )


def _verify_duckdb(settings: Settings, scope: Scope, report: VerifyReport) -> None:
    if not settings.duckdb_path.exists():
        raise BadInput(f"no production warehouse at {settings.duckdb_path}: nothing to verify")
    # A fixed place beside production, like the audit copy: the same file name (views store
    # their catalog's name), the same filesystem, and a dbt profile that does not change between
    # checks, so the project is parsed once per process. The verify lock serialises its users.
    folder = settings.duckdb_path.parent / "_verify"
    scratch = replace(settings, duckdb_path=folder / settings.duckdb_path.name)
    require_profile_builds_in(scratch)  # a full refresh anywhere else could be production
    shutil.rmtree(folder, ignore_errors=True)  # the last check's, kept if it found drift
    folder.mkdir(parents=True)
    with _open_production(settings) as production:
        _rebuild(settings, scratch, published_files(production, settings.raw_schema), report)
        relations = published_relations(_manifest(scratch))
        with duckdb.connect(str(scratch.duckdb_path), read_only=True) as rebuilt:
            sides = (DuckDBSide(production), DuckDBSide(rebuilt))
            report.results.extend(compare_relation(r, *sides, scope) for r in relations)
    if report.drifted:
        report.kept = str(scratch.duckdb_path)
    else:
        shutil.rmtree(folder, ignore_errors=True)


def _verify_postgres(settings: Settings, scope: Scope, report: VerifyReport) -> None:
    """The rebuild goes to scratch schemas of the same database (`<schema>__verify`, its raw
    tables in `<raw schema>__verify`), compared with production through one connection.
    Production is a schema that a publish renames: the comparison (not the rebuild) holds the
    run lock, and a publish during the rebuild means the check is run again."""
    # Imported here: PostgreSQL needs an optional extra.
    from durable.engines.postgres.compare import PostgresSide, drop_schemas, read_only_cursor

    scratch = replace(
        settings,
        schema=settings.schema + SCRATCH_SUFFIX,
        raw_schema=settings.raw_schema + SCRATCH_SUFFIX,
    )
    production = publisher_for(settings)
    held = production.published_files()
    if not held:
        raise BadInput(f"production ({settings.schema}) holds no delivery: nothing to verify")
    drop_schemas(settings, scratch.schema, scratch.raw_schema)
    _rebuild(settings, scratch, held, report)
    relations = published_relations(_manifest(scratch))
    with run_lock(settings.state_dir / "run.lock", settings.lock_timeout):
        if production.published_files() != held:
            raise TransientExhausted("production was published during the check: verify again")
        with read_only_cursor(settings) as cursor:
            ours = PostgresSide(cursor)
            rebuilt = PostgresSide(cursor, _renamer(settings.schema, scratch.schema))
            to_production = _renamer(scratch.schema, settings.schema)
            for relation in relations:
                named = replace(relation, schema=to_production(relation.schema))
                report.results.append(compare_relation(named, ours, rebuilt, scope))
    if report.drifted:
        report.kept = f"{settings.pg_database}.{scratch.schema}"
    else:
        drop_schemas(settings, scratch.schema, scratch.raw_schema)


def _renamer(old: str, new: str) -> Callable[[str], str]:
    """Maps the schema `old` to `new`, and dbt's custom schemas `old_<name>` to `new_<name>`."""

    def rename(schema: str) -> str:
        if schema == old or schema.startswith(f"{old}_"):
            return new + schema[len(old) :]
        return schema

    return rename


def _manifest(scratch: Settings) -> Manifest:
    manifest = dbt.manifest(scratch)
    if manifest is None:
        raise BadInput("the project does not parse: run `dbt parse` to see why")
    return manifest


def _open_production(settings: Settings) -> duckdb.DuckDBPyConnection:
    try:
        return duckdb.connect(str(settings.duckdb_path), read_only=True)
    except duckdb.Error as error:
        # A writer holds it: never the runner (it writes copies), so someone by hand; exit 3
        # says try again later, as for a run.
        if is_transient(str(error)):
            raise TransientExhausted(f"{settings.duckdb_path}: {error}") from None
        raise


def _rebuild(
    settings: Settings, scratch: Settings, held: PublishedFiles, report: VerifyReport
) -> None:
    """Load the deliveries production holds (`held`) into the scratch warehouse, then build
    every model and snapshot there from scratch; tests are left out, since the rows, not their
    tests, are what is compared (a failing test would skip the models downstream of it)."""
    tables = load_source_tables(settings.project_dir)
    deliveries, findings = landing_zone(settings, tables)
    # A file production does not hold yet is the next run's, not drift.
    loaded = [d for d in deliveries if not is_due(d, held)]
    report.left_out = len(deliveries) - len(loaded)
    engine_for(scratch).loader(scratch).load(tables, loaded, findings)
    target_path = settings.state_dir / "verify-target"
    outcome = dbt.invoke(
        scratch,
        [
            "build",
            "--full-refresh",
            "--exclude-resource-type",
            "test",
            "--exclude-resource-type",
            "unit_test",
            # Not the project's target/: a run's `dbt retry` reads its run_results.json there.
            "--target-path",
            str(target_path),
        ],
        quiet=True,
    )
    if not outcome.success:
        failures = "; ".join(f"{n.unique_id}: {n.message}" for n in outcome.failures())
        raise BuildError(f"the rebuild failed: {failures or outcome.exception}")


def _drift_summary(report: VerifyReport) -> dict[str, object]:
    return {
        r.relation: {
            "rows_production": r.rows_production,
            "rows_rebuilt": r.rows_rebuilt,
            "differing_key_count": r.differing_key_count,
            "differing_keys": r.differing_keys,
            "note": r.note,
        }
        for r in report.drifted
    }


def _record(settings: Settings, report: VerifyReport, started: str) -> None:
    state = {ExitCode.OK: "clean", ExitCode.DRIFT: "drift"}.get(report.exit_code, "failed")
    ledger = Ledger(settings.ledger_path)
    try:
        record_verification(
            ledger,
            VerifyRow(
                verify_id=report.verify_id,
                scope=report.scope.label,
                started_at=started,
                finished_at=now(),
                state=state,
                exit_code=int(report.exit_code),
                relations_checked=len(report.results),
                relations_drifted=_drift_summary(report),
                failure=report.failure,
            ),
        )
    finally:
        ledger.close()


def _alert_payload(settings: Settings, report: VerifyReport) -> dict[str, object]:
    drift = report.exit_code == ExitCode.DRIFT
    return {
        "event": "verify_drift" if drift else "verify_failed",
        "verify_id": report.verify_id,
        "exit_code": int(report.exit_code),
        "status": report.exit_code.name.lower(),
        "scope": report.scope.label,
        "failure": report.failure,
        "relations": [
            {"relation": name, **detail} for name, detail in _drift_summary(report).items()
        ],
        "warehouse": _warehouse(settings),
        "rebuilt": report.kept,
    }


def _warehouse(settings: Settings) -> str:
    if adapter_type(settings) == "postgres":
        return f"{settings.pg_database}.{settings.schema}"
    return str(settings.duckdb_path)


def show(report: VerifyReport, console: Console) -> None:
    """A row per relation compared, then the verdict in one line."""
    if report.results:
        table = Table(title=f"verify {report.verify_id}: {report.scope.label}")
        for column in ("relation", "rows prod", "rows rebuilt", "checksum", "differing keys"):
            table.add_column(column)
        for r in report.results:
            keys = ", ".join(r.differing_keys)
            if r.differing_key_count > len(r.differing_keys):
                keys += f" … ({r.differing_key_count} in all)"
            cells = (
                r.relation,
                _count(r.rows_production),
                _count(r.rows_rebuilt),
                "match" if not r.drifted else "DIFFERS",
                "; ".join(part for part in (keys, r.note) if part),
            )
            table.add_row(*(Text(cell) for cell in cells))
        console.print(table)
    if report.exit_code in (ExitCode.OK, ExitCode.DRIFT):  # a failure is the caller's one line
        console.print(Text(verdict(report)))


def verdict(report: VerifyReport) -> str:
    left_out = f"; {report.left_out} files due, left out" if report.left_out else ""
    if report.exit_code == ExitCode.OK:
        return (
            f"clean: {len(report.results)} relations match the rebuild "
            f"({report.scope.label}{left_out})"
        )
    if report.exit_code == ExitCode.DRIFT:
        named = ", ".join(
            f"{r.relation} ({_keys(r.differing_key_count)})"
            if r.differing_key_count
            else r.relation
            for r in report.drifted
        )
        return (
            f"drift: {len(report.drifted)} of {len(report.results)} relations differ from the "
            f"rebuild ({report.scope.label}{left_out}): {named}"
        )
    return f"{report.exit_code.name.lower()} (verify {report.verify_id}): {report.failure}"


def _keys(count: int) -> str:
    return "1 key" if count == 1 else f"{count} keys"


def _count(rows: int | None) -> str:
    return "-" if rows is None else str(rows)


def verify_line(last: VerifyRow | None) -> str:
    """The last check, for `durable status`."""
    if last is None:
        return "last verify: never (durable verify)"
    drifted = f": {', '.join(last.relations_drifted)}" if last.relations_drifted else ""
    failure = f": {last.failure}" if last.failure else ""
    return f"last verify: {last.state} at {last.finished_at} ({last.scope}){drifted}{failure}"
