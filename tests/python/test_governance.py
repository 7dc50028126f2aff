"""scripts/check_governance.py passes on the project and names every offender in a doctored one."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path

import pytest
from dbt.cli.main import dbtRunner

from conftest import PROJECT_DIR

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
    completed = subprocess.run(args, capture_output=True, text=True, timeout=60)
    return completed.returncode, completed.stdout + completed.stderr


def test_the_project_passes(manifest: dict, tmp_path: Path) -> None:
    code, output = check(manifest, tmp_path)
    assert code == 0, output
    assert "models pass" in output


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
