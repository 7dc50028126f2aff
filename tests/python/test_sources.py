"""Any dbt project's landed sources, as its own source YAML declares them (`meta.durable`).

Fast tests, without dbt: a made-up project with two landed sources, its own landing layout and a
composite key; what a wrong declaration says; and that the runner finds the project from
`--project-dir` wherever it is started.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import duckdb
import pytest
import yaml

from durable.config import Settings
from durable.errors import BadInput
from durable.landing.delivery import DeliveryRejected, LandedFile, stage
from durable.landing.zone import scan_landing_zone
from durable.pipeline import load
from durable.sources import load_source_tables

TODAY = date(2024, 3, 10)


def shop_source(**durable: object) -> dict:
    return {
        "name": "shop",
        "schema": "{{ env_var('DURABLE_RAW_SCHEMA', 'raw') }}",
        "meta": {"durable": {"path": "shop/{date}/{table}-*.csv", **durable}},
        "tables": [
            {
                "name": "lines",
                "identifier": "shop_lines",
                "meta": {"primary_key": ["basket_id", "line_no"], "on_bad_file": "halt"},
                "columns": [
                    {"name": "basket_id"},
                    {"name": "line_no", "meta": {"type": "bigint"}},
                    {"name": "changed_at", "meta": {"type": "timestamp"}},
                ],
            },
        ],
    }


def project(root: Path, *sources: dict, model_paths: tuple[str, ...] = ("models",)) -> Path:
    """A dbt project of `sources`, one YAML file each under the first model path."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "dbt_project.yml").write_text(
        yaml.safe_dump({"name": "elsewhere", "profile": "elsewhere", "model-paths": model_paths})
    )
    # Its own profile, beside it, as `dbt init` leaves one: the runner reads its engine there.
    output = {"type": "duckdb", "path": "{{ env_var('DURABLE_DUCKDB_PATH', 'elsewhere.duckdb') }}"}
    profile = {"elsewhere": {"target": "dev", "outputs": {"dev": output}}}
    (root / "profiles.yml").write_text(yaml.safe_dump(profile))
    folder = root / model_paths[0] / "staging"
    folder.mkdir(parents=True, exist_ok=True)
    for source in sources:
        document = {"version": 2, "sources": [source]}
        (folder / f"_{source['name']}__sources.yml").write_text(yaml.safe_dump(document))
    return root


def crm_source() -> dict:
    return {
        "name": "crm",
        "meta": {"durable": {"path": "crm/{table}/{date}.csv", "event_time": "changed_at"}},
        "tables": [
            {"name": "lines", "columns": [{"name": "id"}, {"name": "changed_at"}]},
            {"name": "ledger", "identifier": "_landed_files", "columns": [{"name": "x"}]},
        ],
    }


def test_every_source_with_a_durable_block_is_landed_with_its_own_layout(tmp_path: Path) -> None:
    root = project(tmp_path / "project", shop_source(event_time="changed_at"), crm_source())
    (root / "models" / "other.yml").write_text("version: 2\nmodels: [{name: a}]\n")
    tables = {table.key: table for table in load_source_tables(root)}
    assert set(tables) == {("crm", "lines"), ("shop", "lines")}, "the ledger's table is skipped"
    lines = tables["shop", "lines"]
    assert lines.relation == "shop_lines" and lines.primary_key == ("basket_id", "line_no")
    assert lines.on_bad_file == "halt" and lines.event_time == "changed_at"
    assert tables["crm", "lines"].relation == "lines"

    landing = tmp_path / "landing"
    for path in (
        "shop/2024-03-01/lines-0001.csv",
        "shop/2024-03-01/LINES-0002.CSV.gz",
        "shop/2024-03-01/baskets-0001.csv",
        "shop/2024-02-30/lines-0001.csv",
        "crm/lines/2024-03-02.csv",
        "crm/lines/2099-01-01.csv",
        "crm/orders/2024-03-02.csv",
    ):
        (landing / path).parent.mkdir(parents=True, exist_ok=True)
        (landing / path).write_text("x\n")
    scan = scan_landing_zone(landing, tables.values(), today=TODAY)
    assert [(f.source, f.entity, f.source_file) for f in scan.deliveries] == [
        ("shop", "lines", "shop/2024-03-01/LINES-0002.CSV.gz"),
        ("shop", "lines", "shop/2024-03-01/lines-0001.csv"),
        ("crm", "lines", "crm/lines/2024-03-02.csv"),
    ]
    found = {f.path: (f.status, f.reason) for f in scan.findings}
    assert found["crm/lines/2099-01-01.csv"][0] == "held"
    assert "unrecognized file name" in found["shop/2024-03-01/baskets-0001.csv"][1]
    assert "invalid partition folder '2024-02-30'" in found["shop/2024-02-30/lines-0001.csv"][1]
    assert "no declared source table named 'orders'" in found["crm/orders/2024-03-02.csv"][1]


def test_a_file_that_drops_part_of_a_composite_key_is_rejected_whatever_the_policy(
    tmp_path: Path,
) -> None:
    source = shop_source(drift_policy={"dropped": "warn"})
    (table,) = load_source_tables(project(tmp_path / "project", source))
    path = tmp_path / "lines-0001.csv"
    landed = LandedFile("lines", date(2024, 3, 1), path, path.name, "shop")
    path.write_text("basket_id,changed_at\nb-1,2024-03-01T10:00:00\n")
    with pytest.raises(DeliveryRejected, match=r"primary key \(basket_id, line_no\) lacks line_no"):
        stage(duckdb.connect(), landed, table)
    path.write_text("basket_id,line_no\nb-1,1\n")  # a column the policy may let go of
    assert stage(duckdb.connect(), landed, table).rows_loaded == 1


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"formats": "csv"}, "meta.durable: unknown key 'formats'"),
        ({"format": "parquet"}, "meta.durable.format is 'parquet'; expected csv"),
        (
            {"on_bad_file": "skip"},
            "meta.durable.on_bad_file is 'skip'; expected quarantine or halt",
        ),
        ({"drift_policy": {"added": "shout"}}, "drift_policy.added is 'shout'"),
        ({"path": "shop/{table}.csv"}, "meta.durable.path 'shop/{table}.csv' must hold {date}"),
        ({"path": "shop/{day}/{date}.csv"}, "unknown placeholder '{day}'"),
        ({"path": "../{table}/{date}.csv"}, "has an empty, '.' or '..' segment"),
        ({"event_time": "updated_at"}, "table 'lines': event_time 'updated_at' is not a column"),
        ({"expected": {"by": "6am"}}, "meta.durable.expected by is '6am'; expected a UTC time"),
        ({"expected": "06:00"}, "meta.durable.expected must be a mapping with `by`"),
        ({"expected": {"by": "06:00", "days_after": -1}}, "days_after is -1"),
    ],
)
def test_a_wrong_declaration_is_one_line_naming_the_file_and_the_source(
    tmp_path: Path, change: dict, problem: str
) -> None:
    root = project(tmp_path / "project", shop_source(**change))
    with pytest.raises(BadInput) as raised:
        load_source_tables(root)
    message = str(raised.value)
    assert message.startswith("models/staging/_shop__sources.yml: source 'shop'")
    assert problem in message and "\n" not in message


def test_tables_cannot_share_a_raw_table_nor_a_landing_path(tmp_path: Path) -> None:
    other = {**crm_source(), "meta": {"durable": {"path": "shop/{date}/{table}-*.csv"}}}
    with pytest.raises(BadInput, match="same landing path"):
        load_source_tables(project(tmp_path / "a", shop_source(), other))
    clash = crm_source()
    clash["tables"][0]["identifier"] = "shop_lines"
    with pytest.raises(BadInput, match=r"same raw table \(shop_lines\)"):
        load_source_tables(project(tmp_path / "b", shop_source(), clash))
    keyless = shop_source()
    keyless["tables"][0]["meta"]["primary_key"] = ["basket_id", "nope"]
    with pytest.raises(BadInput, match="primary_key names 'nope', which is not a column"):
        load_source_tables(project(tmp_path / "c", keyless))


def test_the_model_paths_come_from_dbt_project_yml(tmp_path: Path) -> None:
    root = project(tmp_path / "project", shop_source(), model_paths=("transform",))
    assert [t.key for t in load_source_tables(root)] == [("shop", "lines")]
    with pytest.raises(BadInput, match="no dbt_project.yml"):
        load_source_tables(tmp_path)


def test_the_cli_runs_the_project_given_wherever_it_is_started(tmp_path: Path) -> None:
    root = project(tmp_path / "project", shop_source())
    landing = root / "data" / "landing" / "shop" / "2024-03-01"
    landing.mkdir(parents=True)
    (landing / "lines-0001.csv").write_text("basket_id,line_no,changed_at\n")
    (landing / "notes.txt").write_text("a note\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DURABLE_", "DBT_"))}
    status = [sys.executable, "-m", "durable.cli", "--project-dir", str(root), "status"]
    shown = subprocess.run(
        status, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert shown.returncode == 0, shown.stderr
    assert "due: 2024-03-01" in shown.stdout
    assert "1 due" in shown.stdout and "1 reported" in shown.stdout
    assert (root / "data" / "state" / "ledger.sqlite").exists(), "settings under the project"


def test_each_landed_table_loads_into_its_own_raw_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = project(tmp_path / "project", shop_source(), crm_source())
    monkeypatch.setenv("DBT_PROFILES_DIR", str(root))  # `make test` points it at this repository
    settings = Settings(project_dir=root, duckdb_path=tmp_path / "w.duckdb", raw_schema="raw")
    for path, text in (
        ("shop/2024-03-01/lines-0001.csv", "basket_id,line_no,changed_at\nb-1,1,2024-03-01\n"),
        ("crm/lines/2024-03-01.csv", "id,changed_at\nc-1,2024-03-01\nc-2,2024-03-01\n"),
    ):
        (settings.landing_dir / path).parent.mkdir(parents=True, exist_ok=True)
        (settings.landing_dir / path).write_text(text)
    report = load(settings, None)
    assert report.sources == ["crm", "shop"]
    assert sorted((f.source, f.entity, f.status) for f in report.files) == [
        ("crm", "lines", "loaded"),
        ("shop", "lines", "loaded"),
    ]
    with duckdb.connect(str(settings.duckdb_path), read_only=True) as con:
        counts = [
            con.execute(f"select count(*) from raw.{t}").fetchone()[0]
            for t in ("shop_lines", "lines")
        ]
        assert counts == [1, 2]
        ledger = con.execute(
            "select entity, rows_loaded from raw._landed_files order by 2"
        ).fetchall()
        assert ledger == [("lines", 1), ("lines", 2)]
