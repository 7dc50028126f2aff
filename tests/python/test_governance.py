"""scripts/check_governance.py passes on the project and names every offender in a doctored one."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from dbt.cli.main import dbtRunner

from conftest import PROJECT_DIR
from throwaway import macro_project

SCRIPT = PROJECT_DIR / "scripts" / "check_governance.py"


@pytest.fixture(scope="module")
def manifest(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The project's manifest from `dbt parse` (no database needed), outside the shared target/."""
    target = tmp_path_factory.mktemp("governance-target")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DURABLE_DUCKDB_PATH", str(target / "parse.duckdb"))  # parse opens no file
        result = dbtRunner().invoke(
            ["--quiet", "parse", "--project-dir", str(PROJECT_DIR),
             "--profiles-dir", str(PROJECT_DIR), "--target-path", str(target)]
        )  # fmt: skip
    assert result.success, result.exception
    return json.loads((target / "manifest.json").read_text())


def check(manifest: dict, tmp_path: Path, catalog: dict | None = None) -> tuple[int, str]:
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(manifest))
    args = [sys.executable, str(SCRIPT), "--manifest", str(path)]
    if catalog is not None:
        (tmp_path / "catalog.json").write_text(json.dumps(catalog))
        args += ["--catalog", str(tmp_path / "catalog.json")]
    completed = subprocess.run(  # from the root, where macro files are named from
        args, capture_output=True, text=True, timeout=60, cwd=PROJECT_DIR
    )
    return completed.returncode, completed.stdout + completed.stderr


def test_the_project_passes(manifest: dict, tmp_path: Path) -> None:
    code, output = check(manifest, tmp_path)
    assert code == 0, output
    assert "models and" in output and "macros pass" in output


def test_offenders_are_listed(manifest: dict, tmp_path: Path) -> None:
    doctored = copy.deepcopy(manifest)
    nodes = doctored["nodes"]
    nodes["model.jaffle_shop.dim_stores"]["description"] = ""
    nodes["model.jaffle_shop.dim_products"]["columns"]["supply_cost"]["description"] = ""
    # A mart reading a source, badly named.
    mart = copy.deepcopy(nodes["model.jaffle_shop.dim_stores"])
    mart.update(
        unique_id="model.jaffle_shop.store_list",
        name="store_list",
        original_file_path="models/marts/store_list.sql",
        description="Stores straight from the source.",
        depends_on={"macros": [], "nodes": ["source.jaffle_shop.jaffle.stores"]},
    )
    nodes[mart["unique_id"]] = mart
    # A staging model named for another source; a model outside every layer folder.
    stg = copy.deepcopy(nodes["model.jaffle_shop.stg_jaffle__orders"])
    stg.update(unique_id="model.jaffle_shop.stg_shopify__orders", name="stg_shopify__orders")
    stg["original_file_path"] = "models/staging/jaffle/stg_shopify__orders.sql"
    nodes[stg["unique_id"]] = stg
    stray = copy.deepcopy(nodes["model.jaffle_shop.dim_stores"])
    stray.update(unique_id="model.jaffle_shop.stray", name="stray")
    stray["original_file_path"] = "models/stray.sql"
    nodes[stray["unique_id"]] = stray
    # Remove the not_null test of dim_customers' key: unique alone is no primary key.
    del nodes[
        next(
            n for n in nodes if n.startswith("test.jaffle_shop.not_null_dim_customers_customer_id")
        )
    ]

    code, output = check(doctored, tmp_path)
    assert code == 1, output
    for expected in (
        "description: models/marts/dim_stores.sql (dim_stores): model has no description",
        "description: models/marts/dim_products.sql (dim_products): column supply_cost has no",
        "layering: models/marts/store_list.sql (store_list): mart reads a source directly: "
        "jaffle_shop.jaffle.stores",
        "naming: models/marts/store_list.sql (store_list): name should be fct_<process>",
        "naming: models/staging/jaffle/stg_shopify__orders.sql (stg_shopify__orders): name should "
        "be base_jaffle__<entity> or stg_jaffle__<entity>",
        "naming: models/stray.sql (stray): not in a layer folder",
        "primary key: models/marts/dim_customers.sql (dim_customers): no primary key",
        # the copies carry no tests of their own
        "primary key: models/marts/store_list.sql (store_list): no primary key",
    ):
        assert expected in output, f"missing {expected!r} in:\n{output}"
    assert "dim_orders" not in output and "(fct_orders)" not in output


def test_catalog_columns_must_be_declared(manifest: dict, tmp_path: Path) -> None:
    def entry(unique_id: str, extra: str | None = None) -> dict:
        columns = {name: {"name": name} for name in manifest["nodes"][unique_id]["columns"]}
        if extra:
            columns[extra] = {"name": extra}
        return {"columns": columns}

    models = [n for n in manifest["nodes"] if n.startswith("model.")]
    catalog = {"nodes": {m: entry(m) for m in models}, "sources": {}}
    code, output = check(manifest, tmp_path, catalog)
    assert code == 0, output
    assert "actual (catalog)" in output

    catalog["nodes"]["model.jaffle_shop.stg_jaffle__stores"] = entry(
        "model.jaffle_shop.stg_jaffle__stores", extra="tax_percent"
    )
    code, output = check(manifest, tmp_path, catalog)
    assert code == 1
    assert "column tax_percent is in the warehouse but not declared in YAML" in output


def test_undocumented_macros_are_listed(manifest: dict, tmp_path: Path) -> None:
    doctored = copy.deepcopy(manifest)
    macros = doctored["macros"]
    # A new macro of the project with no _macros.yml entry.
    macros["macro.jaffle_shop.percent_of"] = {
        **macros["macro.jaffle_shop.month_of"],
        "unique_id": "macro.jaffle_shop.percent_of",
        "name": "percent_of",
        "original_file_path": "macros/percent_of.sql",
        "path": "macros/percent_of.sql",
        "macro_sql": "{% macro percent_of(part, whole='1, 2') %}{{ part }}{% endmacro %}",
        "description": "",
        "arguments": [],
    }
    # A package macro whose argument lost its entry; one that documents a stale argument.
    macros["macro.durable.key_hash"]["arguments"] = []
    macros["macro.durable.quarantine_scope"]["arguments"].append(
        {"name": "delivered_on", "type": "string", "description": "Renamed since."}
    )
    # An override of one of dbt's macros has no dispatcher to be covered by, a dispatched
    # engine implementation has one (row_hash), and a generic test is its test_ macro.
    macros["macro.durable.spark__cast"]["description"] = ""
    macros["macro.durable.trino__row_hash"] = {
        **macros["macro.durable.spark__row_hash"],
        "unique_id": "macro.durable.trino__row_hash",
        "name": "trino__row_hash",
    }
    macros["macro.durable.test_recency"]["arguments"][-1]["description"] = " "

    code, output = check(doctored, tmp_path)
    assert code == 1, output
    for expected in (
        "macro docs: macros/percent_of.sql (jaffle_shop.percent_of): no description; "
        "arguments not documented: part, whole",
        "macros/lookup/key_lookup.sql (durable.key_hash): arguments not documented: column",
        "macros/quarantine/quarantine.sql (durable.quarantine_scope): documents argument "
        "delivered_on, which it does not take",
        "macros/overrides/spark__cast.sql (durable.spark__cast): no description\n",
        "macros/generic_tests/recency.sql (durable.test_recency): argument max_age_days has no "
        "description",
    ):
        assert expected in output, f"missing {expected!r} in:\n{output}"
    assert "row_hash" not in output and "cents_to_dollars" not in output
    assert output.count("macro docs: ") == 5, output
    assert "packages/durable/macros/lookup/key_lookup.sql (durable.key_hash)" in output


def test_lint_parse_fails_on_a_duplicated_yaml_key(tmp_path: Path) -> None:
    """`make parse` (the parse of `make lint`) is quiet on a sound project and fails on a key
    given twice in a property file: YAML keeps the last, so the first `unit_tests:` would be
    dropped without a word."""
    settings = macro_project(tmp_path / "project", {"orders": "select 1 as order_id"})
    properties = settings.project_dir / "models" / "_orders.yml"
    unit_tests = [
        f"unit_tests:\n  - name: {name}\n    model: orders\n    given: []\n"
        "    expect: {rows: [{order_id: 1}]}\n"
        for name in ("first", "second")
    ]
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")  # when pytest runs under make
    }
    env.update(
        DBT_PROJECT_DIR=str(settings.project_dir),
        DBT_TARGET_PATH=str(tmp_path / "target"),
        DBT_TARGET="duckdb",
        DURABLE_DUCKDB_PATH=str(settings.duckdb_path),
    )

    def make_parse() -> subprocess.CompletedProcess:
        return subprocess.run(
            ["make", "--silent", "--no-print-directory", "-C", str(PROJECT_DIR), "parse"],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )

    properties.write_text("version: 2\n" + unit_tests[0])
    sound = make_parse()
    assert sound.returncode == 0, sound.stdout + sound.stderr
    assert sound.stdout == "", sound.stdout

    properties.write_text("version: 2\n" + "".join(unit_tests))
    duplicated = make_parse()
    output = duplicated.stdout + duplicated.stderr
    assert duplicated.returncode != 0, output
    assert "DuplicateYAMLKeysDeprecation" in output, output
    assert "Duplicate key 'unit_tests'" in output and "models/_orders.yml" in output, output
