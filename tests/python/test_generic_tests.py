"""Each in-project generic test passes on good data and fails, with the right count, on bad data;
so does `unique` on `row_hash`, which must tell apart rows that differ and only those, and dbt's
`relationships` as the project runs it on a parent that stores its key's hash. The key-hash
lookup returns the rows of the wanted keys and no other, even when hashes collide. The package's
macros read a row's event time from the column its source or model declares.

A throwaway dbt project holds two small models per test and the repository's generic tests; the
assertions read dbt's own results, as a user reading `dbt build` output would.
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import pytest

from durable import dbt
from throwaway import macro_project

pytestmark = pytest.mark.slow

MODELS = {
    "combos_good": "select * from (values (1, 'a'), (1, 'b'), (2, 'a')) as t(id, kind)",
    "combos_bad": "select * from (values (1, 'a'), (1, 'a'), (2, 'a'), (2, 'a')) as t(id, kind)",
    "totals_good": "select * from (values (1, 2, 3), (2, 2, 4)) as t(a, b, total)",
    "totals_bad": "select * from (values (1, 2, 3), (2, 2, 5), (0, 0, 1)) as t(a, b, total)",
    "prices_good": "select * from (values (0), (5), (10), (null)) as t(price)",
    "prices_bad": "select * from (values (-1), (5), (11)) as t(price)",
    "events_good": "select cast('2018-09-09' as date) as event_date",
    "events_bad": "select cast('2018-09-01' as date) as event_date",
    "daily_good": (
        "select cast(day as date) as day from (values ('2018-09-01'), ('2018-09-02')) as d(day), "
        "range(100) as r(i) union all select cast('2018-09-03' as date) from range(130)"
    ),
    "daily_bad": (
        "select cast(day as date) as day from (values ('2018-09-01'), ('2018-09-02')) as d(day), "
        "range(100) as r(i) union all select cast('2018-09-03' as date) from range(10)"
    ),
    # row_hash (macros/row_hash.sql): rows that differ only by a null, by values swapped between
    # columns or by where one value ends and the next begins get different hashes; the same
    # values twice, the same hash.
    "hashes_good": (
        "select {{ durable.row_hash(['x', 'y']) }} as row_hash from (values ('a', null),"
        " (null, 'a'), ('a', 'b'), ('b', 'a'), ('ab', ''), ('', 'ab'), (null, null)) as t(x, y)"
    ),
    "hashes_bad": (
        "select {{ durable.row_hash(['x', 'y']) }} as row_hash from (values ('a', 'b'),"
        " ('a', 'b'), ('a', null)) as t(x, y)"
    ),
    "keyhashes_good": (
        "select id, {{ durable.key_hash('id') }} as _id_hash from (values ('a'), ('b')) as t(id)"
    ),
    "keyhashes_bad": (
        "select id, case when id = 'a' then {{ durable.key_hash('id') }} when id = 'b' then"
        " {{ durable.key_hash('id') }} + 1 end as _id_hash"
        " from (values ('a'), ('b'), ('c')) as t(id)"
    ),
    # rows_with_keys (macros/key_lookup.sql) on a table whose every row carries the hash of 'a',
    # as if all three ids collided with it: the keys themselves decide.
    "lookup_table": (
        "select id, {{ durable.key_hash(\"'a'\") }} as _id_hash, id || '!' as payload"
        " from (values ('a'), ('b'), ('c')) as t(id)"
    ),
    "lookup_colliding": (
        "{{ durable.rows_with_keys(ref('lookup_table'), 'id', \"(select 'a' as id) as wanted\") }}"
    ),
    "lookup_table_hashed": (
        "select id, {{ durable.key_hash('id') }} as _id_hash, payload"
        " from {{ ref('lookup_table') }}"
    ),
    # relationships on a parent that stores its key's hash (macros/test_relationships.sql): a
    # daily audit looks the window's child keys up by it; a child outside the window is not
    # audited.
    "rel_parents": (
        "select id, {{ durable.key_hash('id') }} as _id_hash from (values ('p1'), ('p2')) as t(id)"
    ),
    "rel_children_good": (
        "select * from (values ('p1', date '2018-09-10'), ('p2', date '2018-09-08'),"
        " ('gone', date '2018-09-01')) as t(parent_id, delivered)"
    ),
    "rel_children_bad": (
        "select * from (values ('p1', date '2018-09-10'), ('gone', date '2018-09-10'),"
        " ('gone2', date '2018-09-08')) as t(parent_id, delivered)"
    ),
    "lookup_hashed": (
        "{{ durable.rows_with_keys(ref('lookup_table_hashed'), 'id',"
        " \"(select * from (values ('b'), ('c'), ('zz')) as k(id)) as wanted\") }}"
    ),
}

SCHEMA = """
version: 2
models:
  - name: combos_good
    data_tests: &combos
      - durable.unique_combination_of_columns: {arguments: {combination_of_columns: [id, kind]}}
  - name: combos_bad
    data_tests: *combos
  - name: totals_good
    data_tests: &totals [{durable.expression_is_true: {arguments: {expression: "a + b = total"}}}]
  - name: totals_bad
    data_tests: *totals
  - name: prices_good
    columns:
      - name: price
        data_tests: &prices [{durable.accepted_range: {arguments: {min_value: 0, max_value: 10}}}]
  - name: prices_bad
    columns: [{name: price, data_tests: *prices}]
  - name: events_good
    columns:
      - name: event_date
        data_tests: &recent [{durable.recency: {arguments: {max_age_days: 2}}}]
  - name: events_bad
    columns: [{name: event_date, data_tests: *recent}]
  - name: daily_good
    data_tests: &daily
      - durable.row_count_within_tolerance:
          arguments: {date_column: day, tolerance: 0.5, min_rows: 20}
  - name: daily_bad
    data_tests: *daily
  - name: hashes_good
    columns: [{name: row_hash, data_tests: [unique]}]
  - name: hashes_bad
    columns: [{name: row_hash, data_tests: [unique]}]
  - name: keyhashes_good
    columns:
      - name: _id_hash
        data_tests: &keyhash [{durable.is_key_hash_of: {arguments: {key: id}}}]
  - name: keyhashes_bad
    columns: [{name: _id_hash, data_tests: *keyhash}]
  - name: rel_children_good
    config: {meta: {audit_window_column: delivered}}
    columns:
      - name: parent_id
        data_tests: &rel
          - relationships:
              arguments: {to: ref('rel_parents'), field: id}
              config: {where: "__audit_window__"}
  - name: rel_children_bad
    config: {meta: {audit_window_column: delivered}}
    columns: [{name: parent_id, data_tests: *rel}]
"""

# Failing rows each bad model must produce: the test names the offenders, not just "failed".
EXPECTED_FAILURES = {
    "combos_bad": 2,  # (1, a) and (2, a) each twice
    "totals_bad": 2,
    "prices_bad": 2,  # -1 below, 11 above
    "events_bad": 1,
    "daily_bad": 1,  # 2018-09-03 dropped from 100 to 10 rows
    "hashes_bad": 1,  # ('a', 'b') twice
    "keyhashes_bad": 2,  # b's hash is off by one, c has none
    "rel_children_bad": 2,  # gone and gone2, both delivered in the window
}


@pytest.fixture(scope="module")
def build(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, dbt.NodeOutcome], Path]:
    settings = macro_project(tmp_path_factory.mktemp("generic-tests"), MODELS)
    (settings.project_dir / "models" / "schema.yml").write_text(SCHEMA)
    outcome = dbt.invoke(
        settings, ["build"], {"start_date": "2018-09-10", "end_date": "2018-09-10"}, quiet=True
    )
    tests = {n.unique_id.split(".")[2]: n for n in outcome.nodes if n.resource_type == "test"}
    return tests, settings.duckdb_path


@pytest.fixture(scope="module")
def results(build: tuple[dict[str, dbt.NodeOutcome], Path]) -> dict[str, dbt.NodeOutcome]:
    return build[0]


def _tests_on(results: dict[str, dbt.NodeOutcome], model: str) -> list[dbt.NodeOutcome]:
    return [node for name, node in results.items() if f"_{model}_" in name + "_"]


@pytest.mark.parametrize("model", sorted(EXPECTED_FAILURES))
def test_generic_test_fails_on_bad_data_with_the_offending_rows(results: dict, model: str) -> None:
    (node,) = _tests_on(results, model)
    assert node.status == "fail", f"{node.unique_id}: {node.status} {node.message}"
    assert f"Got {EXPECTED_FAILURES[model]} result" in node.message


@pytest.mark.parametrize("model", sorted(m.replace("_bad", "_good") for m in EXPECTED_FAILURES))
def test_generic_test_passes_on_good_data(results: dict, model: str) -> None:
    (node,) = _tests_on(results, model)
    assert node.status == "pass", f"{node.unique_id}: {node.status} {node.message}"


def test_rows_with_keys_finds_the_keys_rows_and_no_colliding_row(build: tuple) -> None:
    """The key-hash lookup returns the rows of the wanted keys: all of them, and only them."""
    with duckdb.connect(str(build[1]), read_only=True) as con:
        colliding = con.execute("select id, payload from analytics.lookup_colliding").fetchall()
        hashed = con.execute("select id from analytics.lookup_hashed order by id").fetchall()
    assert colliding == [("a", "a!")]
    assert hashed == [("b",), ("c",)]


# A landed source whose event time is not `updated_at`, one that says `updated_at`, and models
# reading them; `stamped` declares its own with dbt's `event_time` config.
EVENT_TIME_SOURCES = """
version: 2
sources:
  - name: fleet
    schema: raw
    meta: {durable: {event_time: read_at}}
    tables: [{name: readings}]
  - name: shop
    schema: raw
    meta: {durable: {event_time: updated_at}}
    tables: [{name: orders}]
"""
EVENT_TIME_MODELS = {
    "readings_base": (
        "with typed as (select * from {{ source('fleet', 'readings') }}),\n"
        "conflicting_duplicates as (\n"
        "    {{ durable.conflicting_duplicates('typed', ['station_id'], ['bikes']) }}\n)\n"
        "select *, {{ durable.is_conflicting_duplicate(['station_id']) }} as conflicting"
        " from typed"
    ),
    "readings_latest": (
        "with readings as (select * from {{ ref('readings_base') }})\n"
        "{{ durable.latest_version('readings', ['station_id']) }}"
    ),
    "stamped": "{{ config(event_time='stamped_at') }} select * from {{ ref('readings_latest') }}",
    "mixed": "select * from {{ ref('readings_latest') }}, {{ source('shop', 'orders') }}",
    "event_times": (
        "select '{{ durable.event_time_of(source('fleet', 'readings')) }}' as of_source,"
        " '{{ durable.event_time_of(ref('readings_latest')) }}' as of_staging,"
        " '{{ durable.event_time_of(ref('stamped')) }}' as of_config,"
        " '{{ durable.event_time_of(ref('mixed')) }}' as of_mixed"
    ),
}


def test_macros_default_to_the_declared_event_time(tmp_path: Path) -> None:
    """With no event_time argument, the conflicting-duplicate check and latest_version use the
    one the model's landed source declares, changed_rows (event_time_of its relation) the one
    its relation declares: a model's `event_time` config first, else its sources', else
    `updated_at` when they disagree. Compiled only: the SQL says which column."""
    settings = macro_project(tmp_path, EVENT_TIME_MODELS)
    (settings.project_dir / "models" / "sources.yml").write_text(EVENT_TIME_SOURCES)
    outcome = dbt.invoke(settings, ["compile", "--select", *EVENT_TIME_MODELS], quiet=True)
    assert outcome.success, outcome.exception or [n.message for n in outcome.failures()]
    target = settings.project_dir / os.environ.get("DBT_TARGET_PATH", "target")
    compiled = {
        name: (target / "compiled" / "jaffle_shop" / "models" / f"{name}.sql").read_text()
        for name in EVENT_TIME_MODELS
    }
    assert "station_id, read_at, _source_file" in compiled["readings_base"]
    assert "(station_id, read_at, _source_file) in (" in compiled["readings_base"]
    assert (
        "order by read_at desc, _delivery_date desc, _row_number desc"
        in (compiled["readings_latest"])
    )
    assert compiled["event_times"].strip() == (
        "select 'read_at' as of_source, 'read_at' as of_staging, 'stamped_at' as of_config,"
        " 'updated_at' as of_mixed"
    )
