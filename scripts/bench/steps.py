"""What one measured process does: each step runs in a process of its own (`benchmark.py step`)
and reports one JSON line, so it pays dbt's start-up and parse the way a scheduled job does.

dbt and the runner are imported inside the steps: the parent process that only starts them has
no use for them.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

from durable.config import Settings

from .warehouse import copy_database, evict_from_page_cache, settings_for

if TYPE_CHECKING:
    from durable.dbt import DbtOutcome

MERGE_MODEL = "model.jaffle_shop.fct_order_items"
MERGE_PARENTS = "merge_parents.duckdb"  # the state fct_order_items' MERGE starts from
MERGE_STATEMENTS = "merge_statements.json"  # what dbt ran for it, replayed by merge_raw

Step = Callable[[Settings, date, Path], dict[str, Any]]
P = ParamSpec("P")
R = TypeVar("R")


def _dbt_env(workdir: Path, name: str) -> None:
    # A target and log folder of our own: other dbt runs in this checkout are left alone. One
    # target per step: a scheduled job keeps its target folder, so its partial parse stays valid
    # from one day to the next; steps sharing one would re-parse whenever the profile's database
    # path changes (audit copy vs production), which a daily job never sees.
    os.environ["DBT_TARGET_PATH"] = str(workdir / "target" / name)
    os.environ["DBT_LOG_PATH"] = str(workdir / "logs")


def _nodes(outcome: DbtOutcome) -> dict[str, list[Any]]:
    return {n.unique_id: [n.status, round(n.execution_time, 3)] for n in outcome.nodes}


def _check(outcome: DbtOutcome) -> None:
    if not outcome.success:
        failed = [f"{n.unique_id}: {n.message}" for n in outcome.failures()]
        raise SystemExit(f"dbt failed: {failed or outcome.exception}")


def _temp_relation_and_merge(statements: list[list[Any]]) -> tuple[list[list[Any]], ...]:
    """dbt's `create ... __dbt_tmp ... as (` and its `merge into`, among the model's statements."""
    create = [s for s in statements if "__dbt_tmp" in s[0] and " as (" in s[0].lower()]
    merge = [s for s in statements if "merge into" in s[0].lower()]
    return create, merge


def step_full_refresh(settings: Settings, day: date, workdir: Path) -> dict[str, Any]:
    from durable import dbt

    began = time.perf_counter()
    outcome = dbt.invoke(settings, ["build", "--full-refresh"], quiet=True)
    _check(outcome)
    return {"seconds": time.perf_counter() - began, "nodes": _nodes(outcome)}


def step_plain(settings: Settings, day: date, workdir: Path) -> dict[str, Any]:
    """Load the day, then `dbt build` its window: the pipeline without the runner around it."""
    from durable import dbt, pipeline
    from durable.selection import build_arguments, code_fingerprint

    began = time.perf_counter()
    load = pipeline.load(settings, day)
    loaded = time.perf_counter()
    fingerprint = code_fingerprint(settings)  # dbt's parse, one after the other here
    parsed = time.perf_counter()
    # The command the runner runs: what the day's deliveries feed, and the unit tests only on
    # code they have not passed on yet (durable/selection.py).
    arguments = build_arguments(
        load, day, day, settings.prod_state_dir, fingerprint, by_delivery=True
    )
    outcome = dbt.invoke(settings, ["build", *arguments], dbt.window_vars(day, day), quiet=True)
    _check(outcome)
    ended = time.perf_counter()
    return {
        "seconds": ended - began,
        "phases": {
            "load": loaded - began,
            "dbt parse": parsed - loaded,
            "dbt build": ended - parsed,
        },
        "files_loaded": len(load.new_files),
        "nodes": _nodes(outcome),
    }


def step_merge_dbt(settings: Settings, day: date, workdir: Path) -> dict[str, Any]:
    """dbt runs fct_order_items alone on the day (its parents built first, then saved for the
    raw step): no other node competes for the two cores while its statements are timed."""
    from durable import dbt, pipeline

    name = MERGE_MODEL.rsplit(".", 1)[-1]
    variables = dbt.window_vars(day, day)
    pipeline.load(settings, day)
    parents = ["run", "--select", f"+{name}", "--exclude", name]
    _check(dbt.invoke(settings, parents, variables, quiet=True))
    copy_database(settings.duckdb_path, workdir / MERGE_PARENTS)
    os.sync()
    # The copy read every page of the file into the page cache: out again, or dbt's MERGE
    # would run warm against the raw step's cold one.
    evict_from_page_cache(settings.duckdb_path)

    statements: list[list[Any]] = []  # [sql, elapsed] of every statement of the MERGE model

    def capture(event: Any) -> None:  # a dbt EventMsg
        node = getattr(event.data, "node_info", None)
        if node is None or node.unique_id != MERGE_MODEL:
            return
        if event.info.name == "SQLQuery":
            statements.append([event.data.sql, None])
        elif event.info.name == "SQLQueryStatus" and statements:
            statements[-1][1] = event.data.elapsed

    began = time.perf_counter()
    outcome = dbt.invoke(
        settings, ["run", "--select", name], variables, quiet=True, callbacks=[capture]
    )
    seconds = time.perf_counter() - began
    _check(outcome)
    (workdir / MERGE_STATEMENTS).write_text(json.dumps(statements))
    create, merge = _temp_relation_and_merge(statements)
    return {
        "seconds": seconds,
        "node_seconds": _nodes(outcome)[MERGE_MODEL][1],
        "create_seconds": create[0][1] if create else None,
        "merge_seconds": merge[0][1] if merge else None,
        "statements": len(statements),
        "statements_seconds": sum(s[1] or 0 for s in statements),
    }


def step_runner(settings: Settings, day: date, workdir: Path) -> dict[str, Any]:
    """`Runner(settings).run([(day, day)])`, with the time of each phase it goes through."""
    from durable import dbt, pipeline
    from durable.errors import ExitCode
    from durable.runner import Runner

    phases: dict[str, float] = {}
    ends: dict[str, float] = {}
    nodes: dict[str, list[Any]] = {}

    def timed(name: str, function: Callable[P, R]) -> Callable[P, R]:
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            began = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                ends[name] = time.perf_counter()
                phases[name] = phases.get(name, 0.0) + ends[name] - began

        return wrapper

    real_invoke = dbt.invoke

    def invoke(*args: Any, **kwargs: Any) -> DbtOutcome:
        outcome = real_invoke(*args, **kwargs)
        nodes.update(_nodes(outcome))
        return outcome

    # The runner finds these by module attribute, so wrapping them times its phases in place.
    dbt.invoke = timed("dbt build", invoke)
    # The parse (the code's fingerprint), which the runner runs while it copies and loads.
    dbt.manifest = timed("parse", dbt.manifest)
    pipeline.load = timed("load", pipeline.load)
    runner = Runner(settings, progress="quiet")
    publisher = runner.publisher
    publisher.open_audit = timed("audit copy", publisher.open_audit)
    publisher.publish = timed("publish", publisher.publish)
    publisher.rows_changed = timed("rows changed", publisher.rows_changed)
    began = time.perf_counter()
    report = runner.run([(day, day)])
    seconds = time.perf_counter() - began
    if report.exit_code != ExitCode.OK:
        raise SystemExit(f"runner failed ({report.exit_code.name}): {report.failure}")
    # Only the part of the parse that outlasted the copy and the load kept the build waiting.
    parse = phases.pop("parse", 0.0)
    phases["dbt parse"] = max(0.0, ends.get("parse", 0.0) - ends.get("load", 0.0))
    phases["runner (lock, ledger, rest)"] = seconds - sum(phases.values())
    order = ("audit copy", "load", "dbt parse", "dbt build", "rows changed", "publish")
    phases = {name: phases.pop(name) for name in order if name in phases} | phases
    return {
        "seconds": seconds,
        "phases": phases,
        "parse_seconds": parse,
        "rows_changed": report.windows[0].rows_changed,
        "nodes": nodes,
        "database_bytes": settings.duckdb_path.stat().st_size,
        "copy_method": publisher.copy_method,
    }


def step_merge_raw(settings: Settings, day: date, workdir: Path) -> dict[str, Any]:
    """The temp relation and MERGE dbt ran for fct_order_items, executed directly in DuckDB on
    the same state (the copy `merge_dbt` saved before dbt ran the model)."""
    import duckdb

    statements = json.loads((workdir / MERGE_STATEMENTS).read_text())
    create, merge = _temp_relation_and_merge(statements)
    if len(create) != 1 or len(merge) != 1:
        raise SystemExit(f"could not find dbt's temp relation and MERGE among {len(statements)}")
    config = {
        "memory_limit": os.environ["DURABLE_DUCKDB_MEMORY_LIMIT"],
        "threads": int(os.environ["DURABLE_DUCKDB_THREADS"]),
        "preserve_insertion_order": False,  # as profiles.yml sets it
    }
    with duckdb.connect(str(settings.duckdb_path), config=config) as con:
        con.execute(f"set schema '{settings.schema}'")
        # The strategy sends its statements as one script around the MERGE; EXPLAIN takes one
        # statement, so the others run first and the MERGE is the one analysed.
        script = [statement.query for statement in duckdb.extract_statements(merge[0][0])]
        at = next(i for i, query in enumerate(script) if query.lstrip().lower().startswith("merge"))
        # As dbt runs them: the temp relation and the MERGE in one transaction, the commit
        # timed apart.
        con.execute("begin transaction")
        began = time.perf_counter()
        con.execute(create[0][0])
        created = time.perf_counter()
        results = [con.execute(query).fetchall() for query in script]
        merged = time.perf_counter()
        con.execute("rollback")
        rows = results[at]
        con.execute(create[0][0])
        for query in script[:at]:
            con.execute(query)
        plan = con.execute("explain analyze " + script[at]).fetchall()
    return {
        "seconds": merged - began,
        "create_seconds": created - began,
        "merge_seconds": merged - created,
        "rows": rows[0][0] if rows and rows[0] else None,
        "explain_analyze": plan[0][1] if plan else "",
    }


def _heal(settings: Settings, windows: list[tuple[date, date]] | None) -> dict[str, Any]:
    """One runner run of these windows, or of every due one (None), as `durable run` makes it."""
    from durable.errors import ExitCode
    from durable.runner import Runner

    began = time.perf_counter()
    report = Runner(settings, progress="quiet").run(windows)
    seconds = time.perf_counter() - began
    if report.exit_code != ExitCode.OK:
        raise SystemExit(f"runner failed ({report.exit_code.name}): {report.failure}")
    return {
        "seconds": seconds,
        "windows": [
            f"{w.start}..{w.end}" if w.end != w.start else f"{w.start}" for w in report.windows
        ],
        "tests_passed": sum(w.tests_passed for w in report.windows),
    }


def step_catchup_day(settings: Settings, day: date, workdir: Path) -> dict[str, Any]:
    """The runner on one missing day: `durable run --date <day>`."""
    return _heal(settings, [(day, day)])


def step_catchup(settings: Settings, day: date, workdir: Path) -> dict[str, Any]:
    """A bare `durable run`: it finds every missing day due and heals them."""
    return _heal(settings, None)


STEPS: dict[str, Step] = {
    "full_refresh": step_full_refresh,
    "plain": step_plain,
    "noop": step_plain,  # the same build again on the file plain left: nothing new to do
    "plain_reflink": step_plain,
    "runner": step_runner,
    "merge_dbt": step_merge_dbt,
    "merge_raw": step_merge_raw,
    "catchup_day": step_catchup_day,
    "catchup": step_catchup,
}


def run_step(name: str, database: Path, landing: Path, day: date, workdir: Path) -> dict[str, Any]:
    """Run one of STEPS in this process, in its own dbt target folder."""
    _dbt_env(workdir, name)
    return STEPS[name](settings_for(workdir, database, landing), day, workdir)
