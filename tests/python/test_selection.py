"""What a window's build selects, given what it loaded and whether the code changed."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

from conftest import PROJECT_DIR
from durable import dbt
from durable.config import Settings
from durable.landing.accounting import FileLoad, LoadReport
from durable.selection import (
    LEDGER_SOURCE,
    LEDGER_TABLES,
    UNIT_TESTS_PASSED,
    build_arguments,
    code_fingerprint,
    with_seeds_read,
)

DAY = date(2024, 3, 2)


def orders_delivered() -> LoadReport:
    delivered = FileLoad("orders/dt=2024-03-02/orders.csv", "orders", DAY, "loaded")
    return LoadReport([replace(delivered, source="jaffle")], sources=["jaffle"])


def production_state(tmp_path: Path, fingerprint: str) -> Path:
    state = tmp_path / "prod-state"
    state.mkdir()
    (state / "manifest.json").write_text("{}")
    (state / UNIT_TESTS_PASSED).write_text(fingerprint + "\n")
    return state


def test_a_changed_project_is_compared_with_production_and_unit_tested(tmp_path: Path) -> None:
    state = production_state(tmp_path, "published")
    for fingerprint in ("edited", None):  # None: the project did not parse
        arguments = build_arguments(orders_delivered(), DAY, DAY, state, fingerprint, True)
        assert "source:jaffle.orders+" in arguments
        assert "state:modified+" in arguments, "an edited model ships the day it is merged"
        assert arguments[arguments.index("--state") + 1] == str(state)
        assert "resource_type:unit_test" in arguments
        assert "--exclude-resource-type" not in arguments


def test_the_published_code_builds_what_was_delivered_without_unit_tests(tmp_path: Path) -> None:
    state = production_state(tmp_path, "published")
    arguments = build_arguments(orders_delivered(), DAY, DAY, state, "published", True)
    assert "source:jaffle.orders+" in arguments and "source:jaffle" in arguments
    # Nothing can differ from production's manifest: reading it would only cost time.
    assert "state:modified+" not in arguments and "--state" not in arguments
    assert arguments[-2:] == ["--exclude-resource-type", "unit_test"]
    # Engines whose audit copy lacks some relations build everything, still without them.
    everything = build_arguments(orders_delivered(), DAY, DAY, state, "published", False)
    assert everything == ["--exclude-resource-type", "unit_test"]


def test_the_fingerprint_follows_the_environment_variables_the_project_reads() -> None:
    settings = Settings(project_dir=PROJECT_DIR)
    assert code_fingerprint(settings) == code_fingerprint(settings)
    # The sources' schema comes from env_var('DURABLE_RAW_SCHEMA'): other tables, other code.
    other = replace(settings, raw_schema="raw_elsewhere")
    assert code_fingerprint(other) != code_fingerprint(settings)


def test_every_table_each_load_writes_is_selected_every_day(tmp_path: Path) -> None:
    # The loader's bookkeeping tables feed the file accounting and the quarantine whatever was
    # delivered: one missing here would go stale unnoticed. The durable package declares them.
    manifest = dbt.manifest(Settings(project_dir=PROJECT_DIR))
    assert manifest is not None, "the project parses"
    bookkeeping = {s.name for s in manifest.sources.values() if s.source_name == LEDGER_SOURCE}
    assert set(LEDGER_TABLES) == bookkeeping
    state = production_state(tmp_path, "x")
    arguments = build_arguments(LoadReport(sources=["jaffle"]), DAY, DAY, state, "x", True)
    assert all(f"source:{LEDGER_SOURCE}.{name}+" in arguments for name in LEDGER_TABLES)


def test_a_selected_build_builds_the_seeds_its_nodes_read() -> None:
    # A models-only build in a fresh schema (the Spark tests') needs the seeds models read.
    assert with_seeds_read(["resource_type:model"]) == [
        "resource_type:model",
        "+resource_type:model,resource_type:seed",
    ]
    assert with_seeds_read(["+fct_orders", "@stg_orders"])[2:] == [
        "+fct_orders,resource_type:seed",
        "@stg_orders,resource_type:seed",
    ]
