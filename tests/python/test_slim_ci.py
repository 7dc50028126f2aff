"""Slim CI builds exactly the changed model and its descendants, and defers the rest to production.

A copy of the dbt project is built once as production on four days of simulated deliveries; one
staging model is then changed and scripts/slim_ci.py runs against the production manifest (as
the PR job does with the deploy job's artifact) and against a git base ref (as it does when
there is no artifact). Its run_results.json must list the expected nodes and nothing else.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from conftest import PROJECT_DIR
from durable.config import Settings
from durable.pipeline import process_window
from jaffle_simulator import DeliveryPlan

pytestmark = pytest.mark.slow

SCRIPT = PROJECT_DIR / "scripts" / "slim_ci.py"
DBT_FILES = (
    ".gitignore",
    "dbt_project.yml",
    "profiles.yml",
    "packages.yml",
    "package-lock.yml",
    "packages",
    "models",
    "macros",
    "snapshots",
    "seeds",
)
CHANGED = "model.jaffle_shop.stg_jaffle__stores"
CHANGED_FILE = "models/staging/jaffle/stg_jaffle__stores.sql"


@dataclass
class Production:
    project: Path  # a copy of the project, with one model changed after production was built
    landing: Path
    state: Path  # holds the production manifest.json
    manifest: dict


def git(project: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=ci", "-c", "user.email=ci@example.invalid", *args],
        cwd=project,
        check=True,
        capture_output=True,
    )


@pytest.fixture(scope="module")
def production(jafgen_cache: Path, tmp_path_factory: pytest.TempPathFactory) -> Production:
    root = tmp_path_factory.mktemp("slim-ci")
    project = root / "project"
    for name in DBT_FILES:
        source, target = PROJECT_DIR / name, project / name
        if source.is_dir():
            shutil.copytree(source, target)
        elif source.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    (project / "dbt_packages").mkdir()
    (project / "dbt_packages" / "durable").symlink_to(project / "packages" / "durable")
    git(project, "init", "--quiet")
    git(project, "add", ".")
    git(project, "commit", "--quiet", "-m", "production")

    landing = root / "landing"
    DeliveryPlan.build(seed=7, days=4, cache_dir=jafgen_cache).land(landing)
    settings = Settings(
        project_dir=project,
        landing_dir=landing,
        duckdb_path=root / "prod" / "warehouse.duckdb",  # named like the default (base ref)
    )
    result = process_window(settings, None, None, quiet=True)
    assert result.success, [f"{n.unique_id}: {n.message}" for n in result.build.failures()]
    state = root / "prod-state"
    state.mkdir()
    # dbt writes where DBT_TARGET_PATH says (each pytest-xdist worker has its own).
    target = project / os.environ.get("DBT_TARGET_PATH", "target")
    shutil.copy2(target / "manifest.json", state / "manifest.json")

    changed = project / CHANGED_FILE
    text = changed.read_text()
    assert "        tax_rate,\n" in text
    changed.write_text(
        text.replace(
            "        tax_rate,\n", "        tax_rate,\n        tax_rate * 100 as tax_percent,\n"
        )
    )
    manifest = json.loads((state / "manifest.json").read_text())
    return Production(project, landing, state, manifest)


def descendants(manifest: dict, unique_id: str) -> set[str]:
    """The node, everything downstream of it in child_map, and the unit tests of those models."""
    found, todo = {unique_id}, [unique_id]
    while todo:
        for child in manifest["child_map"].get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    found |= {
        test_id
        for test_id, test in manifest.get("unit_tests", {}).items()
        if set(test["depends_on"]["nodes"]) & found
    }
    return found


def slim_ci(production: Production, workdir: Path, *options: str) -> list[dict]:
    env = {**os.environ, "DURABLE_PROD_STATE_DIR": str(workdir / "no-prod-state")}
    completed = subprocess.run(
        [sys.executable, str(SCRIPT), "--project-dir", str(production.project),
         "--workdir", str(workdir), "--landing", str(production.landing), *options],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stdout[-4000:] + completed.stderr[-4000:]
    run_results = json.loads((workdir / "target" / "run_results.json").read_text())["results"]
    return [r for r in run_results if not r["unique_id"].startswith("operation.")]


@pytest.mark.parametrize("compare_with", ["production manifest", "git base ref"])
def test_slim_ci_builds_only_the_change_and_its_descendants(
    production: Production, tmp_path: Path, compare_with: str
) -> None:
    if compare_with == "production manifest":
        results = slim_ci(production, tmp_path, "--state", str(production.state))
    else:
        results = slim_ci(production, tmp_path, "--base-ref", "HEAD")

    expected = descendants(production.manifest, CHANGED)
    assert "model.jaffle_shop.dim_stores" in expected  # the child model
    assert any(n.startswith("test.jaffle_shop.relationships_fct_orders_store_id") for n in expected)
    built = {r["unique_id"] for r in results}
    assert built == expected, (
        f"built but not expected: {sorted(built - expected)}; "
        f"expected but not built: {sorted(expected - built)}"
    )
    assert {r["status"] for r in results} <= {"success", "pass"}, results

    # The rest was deferred: built models are in the CI schema, their unchanged parents are read
    # from production's (analytics), where the changed model itself was never built.
    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as con:
        ci_relations = {
            row[0]
            for row in con.execute(
                "select table_name from information_schema.tables where table_schema = 'ci'"
            ).fetchall()
        }
        prod_relations = {
            row[0]
            for row in con.execute(
                "select table_name from information_schema.tables where table_schema = 'analytics'"
            ).fetchall()
        }
    assert ci_relations == {"stg_jaffle__stores", "dim_stores"}
    assert "stg_jaffle__stores" not in prod_relations and "fct_orders" in prod_relations
    relationship = next(
        r
        for r in results
        if r["unique_id"].startswith("test.jaffle_shop.relationships_fct_orders_s")
    )
    compiled = relationship["compiled_code"]
    assert '"analytics"."fct_orders"' in compiled and '"ci"."dim_stores"' in compiled


def test_slim_ci_without_production_manifest_builds_everything(
    production: Production, tmp_path: Path
) -> None:
    results = slim_ci(production, tmp_path)
    models = {r["unique_id"] for r in results if r["unique_id"].startswith("model.")}
    expected = {n for n in production.manifest["nodes"] if n.startswith("model.")}
    assert models == expected
    assert {r["status"] for r in results} <= {"success", "pass", "warn"}
    # A full build has no window: the 2018 deliveries are old by the wall clock, which the
    # warn-only recency test of the orders source reports; nothing else may warn.
    warned = {r["unique_id"] for r in results if r["status"] == "warn"}
    assert all("recency" in node for node in warned), warned
