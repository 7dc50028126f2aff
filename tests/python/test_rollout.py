"""Code changes ship through write-audit-publish: a changed model is due by itself, and a new
column of an incremental fact rolls out with `durable run --full-refresh --select`, filled on
every earlier row, or not at all.

Each test starts from a copy of one production (two published days of a project copy), so the
runs that build it are paid once per module.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from checks import AUDIT_COLUMNS, MARTS, query_function, relation_checksum
from conftest import connect
from durable.config import Settings
from durable.dbt import forget_manifest
from durable.engines import publisher_for
from durable.errors import BadInput, ExitCode
from durable.ledger import Ledger, WindowRow
from durable.pipeline import process_window
from durable.rollout import requested_rollout
from durable.runner import Runner
from jaffle_simulator import DeliveryPlan
from test_runner import copy_project, durable, settings_for, sha256

pytestmark = pytest.mark.slow

# The column the examples add, and where: after an existing line of the model and of its YAML.
IS_RETURNED_SQL = "        orders.order_status = 'returned' as is_returned,\n"
IS_LARGE_ORDER_SQL = "        orders.order_total_cents >= 10000 as is_large_order,\n"
IS_RETURNED_YAML = (
    "      - {name: is_returned, data_type: boolean, "
    "description: True once the order was returned.}\n"
)
IS_LARGE_ORDER_YAML = (
    "      - name: is_large_order\n"
    "        data_type: boolean\n"
    "        description: True when the order totals $100 or more.\n"
    "        data_tests: [{not_null: {config: {where: 'true'}}}]\n"
)


@dataclass
class Production:
    root: Path

    @property
    def project(self) -> Path:
        return self.root / "project"

    @property
    def settings(self) -> Settings:
        return settings_for(self.root, project_dir=self.project)

    def query(self, sql: str) -> list[tuple]:
        with duckdb.connect(str(self.settings.duckdb_path), read_only=True) as con:
            return con.execute(sql).fetchall()

    def edit(self, relative: str, old: str, new: str) -> None:
        path = self.project / relative
        text = path.read_text()
        assert old in text, f"{relative} no longer has {old!r}"
        path.write_text(text.replace(old, new, 1))

    def add_is_large_order(self, yaml: str = IS_LARGE_ORDER_YAML) -> None:
        self.edit(
            "models/marts/fct_orders.sql", IS_RETURNED_SQL, IS_RETURNED_SQL + IS_LARGE_ORDER_SQL
        )
        self.edit("models/marts/_marts__models.yml", IS_RETURNED_YAML, IS_RETURNED_YAML + yaml)

    def latest_window(self) -> WindowRow:
        ledger = Ledger(self.settings.ledger_path)
        try:
            return ledger.windows(limit=1)[0]
        finally:
            ledger.close()


def publish_two_days(jafgen_cache: Path, root: Path) -> Production:
    """A project copy in `root` whose production holds two published days of deliveries."""
    plan = DeliveryPlan.build(seed=11, days=6, cache_dir=jafgen_cache)
    copy_project(root)  # root/project
    production = Production(root)
    for day in plan.delivery_dates[:2]:
        plan.land(production.settings.landing_dir, only=day)
        report = Runner(production.settings, progress="quiet").run()
        assert report.exit_code == ExitCode.OK, report.failure
    return production


def copy_of(published: Production, root: Path) -> Production:
    """A test's own copy of a published production, project and state included."""
    shutil.copytree(published.root, root, symlinks=True)
    return Production(root)


@pytest.fixture(scope="module")
def published_two_days(jafgen_cache: Path, tmp_path_factory: pytest.TempPathFactory) -> Production:
    return publish_two_days(jafgen_cache, tmp_path_factory.mktemp("published"))


@pytest.fixture
def production(published_two_days: Production, tmp_path: Path) -> Production:
    return copy_of(published_two_days, tmp_path / "copy")


def full_refresh_of(production: Production, root: Path) -> Settings:
    """The same project and landing zone built from scratch by one full-refresh build."""
    settings = settings_for(
        root, project_dir=production.project, landing_dir=production.settings.landing_dir
    )
    built = process_window(settings, None, None, full_refresh=True, quiet=True)
    assert built.success, [n.message for n in built.build.failures()]
    return settings


def test_a_code_change_is_due_by_itself_and_status_names_it(production: Production) -> None:
    settings = production.settings
    status = durable(settings, "status")
    assert status.returncode == 0, status.stderr
    assert "due: nothing" in status.stdout

    production.edit(
        "models/marts/dim_stores.sql",
        "        store_name,\n",
        "        upper(store_name) as store_name,\n",
    )
    status = durable(settings, "status")
    assert status.returncode == 0, status.stderr
    assert "due: code changed: dim_stores" in status.stdout

    result = durable(settings, "run")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "published code change of dim_stores" in result.stderr
    names = production.query("select store_name from analytics.dim_stores")
    assert names and all(name == name.upper() for (name,) in names)
    window = production.latest_window()
    assert (window.kind, window.state) == ("code change", "published")
    assert "dim_stores" in window.rebuilt
    recorded = (settings.prod_state_dir / "unit-tests-passed").read_text().strip()
    assert window.code_fingerprint == recorded, "the ledger holds the published fingerprint"

    again = durable(settings, "run")
    assert again.returncode == 0 and "nothing due" in again.stderr, again.stderr[-2000:]
    assert "due: nothing" in durable(settings, "status").stdout


def test_a_new_column_of_an_incremental_fact_rolls_out_filled_on_every_row(
    production: Production, tmp_path: Path
) -> None:
    settings = production.settings
    production.add_is_large_order()
    assert "code changed: fct_orders" in durable(settings, "status").stdout

    # An incremental run would publish the column null on every earlier row: it stops instead,
    # naming the command that rolls the change out.
    published = sha256(settings.duckdb_path)
    stopped = durable(settings, "run")
    assert stopped.returncode == ExitCode.BUILD_ERROR, stopped.stderr[-2000:]
    assert "new: is_large_order" in stopped.stderr
    assert "durable run --full-refresh --select fct_orders" in stopped.stderr
    assert sha256(settings.duckdb_path) == published

    rolled = durable(settings, "run", "--full-refresh", "--select", "fct_orders")
    assert rolled.returncode == 0, rolled.stderr[-2000:]
    assert "published full refresh of fct_orders" in rolled.stderr
    rows, filled = production.query(
        "select count(*), count(is_large_order) from analytics.fct_orders"
    )[0]
    assert rows > 0 and filled == rows, "the new column is filled on every earlier row"

    reference = full_refresh_of(production, tmp_path / "reference")
    with (
        duckdb.connect(str(settings.duckdb_path), read_only=True) as con,
        duckdb.connect(str(reference.duckdb_path), read_only=True) as full,
    ):
        for mart in MARTS:
            relation = f"analytics.{mart}"
            assert relation_checksum(con, relation, AUDIT_COLUMNS) == relation_checksum(
                full, relation, AUDIT_COLUMNS
            ), f"{mart} differs from a full refresh"

    window = production.latest_window()
    assert (window.kind, window.state) == ("full refresh", "published")
    assert "fct_orders" in window.rebuilt
    assert window.code_fingerprint
    assert window.rows_changed["fct_orders"] == rows, "every row was rewritten"
    status = durable(settings, "status")
    assert "due: nothing" in status.stdout
    assert "full refresh: fct_orders" in status.stdout, "the ledger lists the rollout"


def test_a_rollout_whose_tests_fail_leaves_production_unchanged(production: Production) -> None:
    settings = production.settings
    # The same column, declared with a test no order passes.
    production.add_is_large_order(
        IS_LARGE_ORDER_YAML.replace(
            "[{not_null: {config: {where: 'true'}}}]",
            "[{accepted_values: {arguments: {values: [true]}}}]",
        )
    )
    published = sha256(settings.duckdb_path)
    failed = durable(settings, "run", "--full-refresh", "--select", "fct_orders")
    assert failed.returncode == ExitCode.AUDIT_FAILED, failed.stderr[-2000:]
    assert "accepted_values_fct_orders_is_large_order" in failed.stderr
    assert sha256(settings.duckdb_path) == published, "production is byte-for-byte unchanged"
    assert "is_large_order" not in {
        name for (name,) in production.query("select column_name from information_schema.columns")
    }
    window = production.latest_window()
    assert (window.kind, window.state) == ("full refresh", "failed")
    assert "fct_orders" in window.rebuilt and window.audit_path
    assert "code changed: fct_orders" in durable(settings, "status").stdout, "still due"


def test_a_rollout_selecting_nothing_is_bad_input(production: Production) -> None:
    result = durable(production.settings, "run", "--full-refresh", "--select", "fct_ordres")
    assert result.returncode == ExitCode.BAD_INPUT, result.stderr
    assert "selects no model" in result.stderr
    with pytest.raises(BadInput, match="--select goes with --full-refresh"):
        requested_rollout(full_refresh=False, select=["fct_orders"], window_given=False)
    with pytest.raises(BadInput, match="takes no --date"):
        requested_rollout(full_refresh=True, select=["fct_orders"], window_given=True)
    assert requested_rollout(True, ["fct_orders dim_stores"], False) == ["fct_orders", "dim_stores"]


@pytest.mark.postgres
def test_a_rollout_publishes_by_schema_swap_on_postgres(
    jafgen_cache: Path, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """PostgreSQL's builds run the whole project: a rollout refreshes all of it in the audit
    schema and publishes by the same schema swap as a window."""
    server = request.getfixturevalue("postgres_server")
    plan = DeliveryPlan.build(seed=11, days=6, cache_dir=jafgen_cache)
    copy_project(tmp_path)
    production = Production(tmp_path)
    settings = server.new_database(production.settings)
    plan.land(settings.landing_dir, only=plan.delivery_dates[0])
    first = Runner(settings, progress="quiet").run()
    assert first.exit_code == ExitCode.OK, first.failure

    production.add_is_large_order()
    forget_manifest(publisher_for(settings).audit_settings())  # as a new process would
    rolled = Runner(settings, progress="quiet").run(full_refresh=["fct_orders"])
    assert rolled.exit_code == ExitCode.OK, rolled.failure
    with connect(settings) as con:
        rows, filled = query_function(con)(
            "select count(*), count(is_large_order) from analytics.fct_orders"
        )[0]
    assert rows > 0 and filled == rows
    assert publisher_for(settings).published_runs() == {first.run_id, rolled.run_id}
    assert Runner(settings, progress="quiet").run().windows == [], "nothing is due any more"
