"""The next run's audit copy, made after a publish: taken only while production is unchanged.

Without reflinks (ext4) a run's audit copy reads and writes the whole warehouse; a run that
published copies production for the next one in a process of its own. The next run must build on
exactly the production it would have copied itself, or copy it itself.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest

from checks import warehouse_checksums
from conftest import settings_under
from durable.engines.duckdb.clone import clone_file
from durable.engines.duckdb.prepared import (
    identity,
    prepare,
    prepared_dir,
    take,
    tidy,
    trash_dir,
)
from durable.errors import ExitCode
from durable.runner import Runner
from jaffle_simulator import DeliveryPlan


def _production(tmp_path: Path) -> Path:
    production = tmp_path / "warehouse" / "prod.duckdb"
    production.parent.mkdir()
    with duckdb.connect(str(production)) as con:
        con.execute("create table orders as select range as id from range(50000)")
    return production


def test_a_prepared_copy_is_production_byte_for_byte_and_is_taken_once(tmp_path: Path) -> None:
    production = _production(tmp_path)
    audit = tmp_path / "warehouse" / "_audit" / "prod.duckdb"
    audit.parent.mkdir()

    prepared = prepare(production)

    if prepared is None:  # a reflink costs nothing: nothing is prepared where there are some
        assert clone_file(production, tmp_path / "probe") == "reflink"
        return
    assert take(production, audit)
    assert audit.read_bytes() == production.read_bytes()
    assert list(prepared_dir(production).iterdir()) == []
    assert not take(production, tmp_path / "again.duckdb")


def test_a_copy_of_a_production_written_since_is_dropped_not_taken(tmp_path: Path) -> None:
    production = _production(tmp_path)
    if prepare(production) is None:
        pytest.skip("this filesystem has reflinks: nothing is prepared")
    time.sleep(0.01)
    with duckdb.connect(str(production)) as con:  # a plain dbt build straight into production
        con.execute("insert into orders values (-1)")

    assert not take(production, tmp_path / "audit.duckdb")
    assert not (tmp_path / "audit.duckdb").exists()
    tidy(production)  # after the run, where deleting it costs the run nothing
    assert list(prepared_dir(production).iterdir()) == [], "the stale copy is removed"


def test_nothing_is_prepared_from_a_production_with_a_write_ahead_log(tmp_path: Path) -> None:
    production = _production(tmp_path)
    wal = production.with_name(production.name + ".wal")
    wal.write_bytes(b"left by a writer that died")

    assert identity(production) is None
    assert prepare(production) is None
    assert not take(production, tmp_path / "audit.duckdb")


def _has_reflinks(folder: Path) -> bool:
    (folder / "probe").write_bytes(b"probe")
    return clone_file(folder / "probe", folder / "probe-copy") == "reflink"


def _wait_until(done: Callable[[], bool], seconds: float = 60) -> None:
    """Poll for what the process a run leaves behind does; the assertions after it judge."""
    deadline = time.monotonic() + seconds
    while not done() and time.monotonic() < deadline:
        time.sleep(0.1)


@pytest.mark.slow
def test_the_next_run_builds_in_the_copy_the_last_one_prepared(
    jafgen_cache: Path, tmp_path: Path
) -> None:
    if _has_reflinks(tmp_path):
        pytest.skip("this filesystem has reflinks: the run's own copy costs nothing")
    plan = DeliveryPlan.build(seed=11, days=3, cache_dir=jafgen_cache)
    first, second = plan.delivery_dates[:2]
    states, methods = {}, {}
    for prepares in (True, False):
        root = tmp_path / str(prepares)
        settings = settings_under(
            root,
            prepare_audit_copy=prepares,
            keep_publications=0,  # the file a publish replaces goes to the trash
        )
        plan.land(settings.landing_dir, through=second)
        assert Runner(settings, progress="quiet").run([(first, first)]).exit_code == ExitCode.OK
        # The copy is made by a process of its own: a daily run finds it done a day later.
        ready = prepared_dir(settings.duckdb_path) / str(identity(settings.duckdb_path))
        if prepares:
            _wait_until(ready.exists)
        runner = Runner(settings, progress="quiet")
        assert runner.run([(second, second)]).exit_code == ExitCode.OK
        methods[prepares] = runner.publisher.copy_method
        with duckdb.connect(str(settings.duckdb_path), read_only=True) as con:
            states[prepares] = warehouse_checksums(con)
        # The file the second publish replaced is deleted after the run, by the process that
        # prepares the next copy, or by the run itself.
        trash = trash_dir(settings.duckdb_path)
        _wait_until(lambda folder=trash: not any(folder.iterdir()))
        assert list(trash.iterdir()) == []
    assert methods == {True: "prepared", False: "copy"}
    assert states[True] == states[False], "the same production as a run that copied it itself"
