"""CONTRIBUTING.md's worked examples, applied exactly as written to a copy of the project with a
published production, then shipped the way the guide says: the analyst's outcome is asserted.

Which blocks, and where they go, is said by the guide's markers (tests/python/guide.py): a block
the guide changes is tested as it then reads.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from checks import AUDIT_COLUMNS, relation_checksum
from conftest import PROJECT_DIR
from durable.errors import ExitCode
from guide import Block, apply, blocks, section_blocks
from test_rollout import Production, copy_of, full_refresh_of, publish_two_days
from test_runner import durable, environment

pytestmark = pytest.mark.slow
GUIDE = PROJECT_DIR / "CONTRIBUTING.md"
ADD_A_MODEL = "Add a model"
NEW_COLUMN = "A new column on an incremental fact"


@pytest.fixture(scope="module")
def published_two_days(jafgen_cache: Path, tmp_path_factory: pytest.TempPathFactory) -> Production:
    return publish_two_days(jafgen_cache, tmp_path_factory.mktemp("published"))


@pytest.fixture
def production(published_two_days: Production, tmp_path: Path) -> Production:
    """This test's own copy of the published production, project and state included."""
    return copy_of(published_two_days, tmp_path / "copy")


def apply_section(heading: str, project: Path) -> tuple[list[Block], list[Path]]:
    """Apply every `apply` block of the section; its `run` blocks, and the files it changed."""
    runs, changed = [], []
    for block in section_blocks(GUIDE, heading):
        if block.kind == "run":
            runs.append(block)
        else:
            changed += apply(block, project)
    return runs, sorted(set(changed))


def run_commands(block: Block, production: Production) -> None:
    """The block's commands, as the analyst types them in the project with .venv activated."""
    env = environment(
        production.settings, PATH=f"{Path(sys.executable).parent}:{os.environ['PATH']}"
    )
    for command in block.code.splitlines():
        if not command.strip() or command.lstrip().startswith("#"):
            continue
        result = subprocess.run(
            command,
            shell=True,
            cwd=production.project,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        assert result.returncode == 0, f"{command}: {result.stderr[-2000:]}"


def lint(files: list[Path], project: Path) -> None:
    """sqlfluff on the SQL files the example touched, with the project's settings."""
    sql = [str(f) for f in files if f.suffix == ".sql"]
    if not sql:
        return
    result = subprocess.run(
        [str(Path(sys.executable).parent / "sqlfluff"), "lint", *sql, "--disable-progress-bar"],
        cwd=project,
        env={**os.environ, "DURABLE_DUCKDB_PATH": str(project / "lint.duckdb")},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-1000:]


def test_every_marker_names_an_action_and_a_block() -> None:
    marked = blocks(GUIDE)
    assert {b.section.split(":")[0] for b in marked} >= {ADD_A_MODEL, NEW_COLUMN}
    assert any(b.kind == "run" for b in marked if b.section.startswith(NEW_COLUMN))


def test_add_a_model_ships_with_the_next_run(production: Production) -> None:
    _, changed = apply_section(ADD_A_MODEL, production.project)
    lint(changed, production.project)

    status = durable(production.settings, "status")
    assert "code changed: base_jaffle__promotions" in status.stdout, status.stdout[-2000:]
    shipped = durable(production.settings, "run")
    assert shipped.returncode == 0, shipped.stderr[-3000:]
    assert "published code change" in shipped.stderr

    counts = production.query(
        "select promotion_count, count(*) from analytics.dim_stores group by 1"
    )
    assert counts and [count for count, _ in counts] == [0], "no promotions delivered yet: 0"
    assert production.query("select count(*) from analytics.stg_jaffle__promotions") == [(0,)]
    window = production.latest_window()
    assert (window.kind, window.state) == ("code change", "published")
    assert {"base_jaffle__promotions", "stg_jaffle__promotions", "dim_stores"} <= set(
        window.rebuilt
    )


def test_a_new_column_on_an_incremental_fact_rolls_out_as_the_guide_says(
    production: Production, tmp_path: Path
) -> None:
    runs, changed = apply_section(NEW_COLUMN, production.project)
    lint(changed, production.project)
    assert runs, "the example says what to run"
    for block in runs:
        run_commands(block, production)

    rows, filled = production.query(
        "select count(*), count(is_large_order) from analytics.fct_orders"
    )[0]
    assert rows > 0 and filled == rows, "the new column is filled on every earlier row"
    reference = full_refresh_of(production, tmp_path / "reference")
    with (
        duckdb.connect(str(production.settings.duckdb_path), read_only=True) as con,
        duckdb.connect(str(reference.duckdb_path), read_only=True) as full,
    ):
        shipped = relation_checksum(con, "analytics.fct_orders", AUDIT_COLUMNS)
        assert shipped == relation_checksum(full, "analytics.fct_orders", AUDIT_COLUMNS)
    window = production.latest_window()
    assert (window.kind, window.state) == ("full refresh", "published")
    assert window.tests_failed == 0 and window.tests_passed > 0
    again = durable(production.settings, "run")
    assert again.returncode == ExitCode.OK and "nothing due" in again.stderr
