"""The PostgreSQL loader lands exactly what the DuckDB loader lands; server faults are transient."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from checks import relation_checksum
from conftest import PostgresServer, connect, make_warehouse
from durable.engines.postgres import PostgresPublisher
from durable.pipeline import load
from durable.retry import TransientError
from durable.sources import load_source_tables
from jaffle_simulator import DeliveryPlan

LOADED_AT = ("_loaded_at", "loaded_at")


def raw_tables(settings, tables) -> dict:  # noqa: ANN001
    """Every raw table and the ledger, without load times (they differ by design)."""
    relations = [f"raw.{t.name}" for t in tables]
    relations += ["raw._rejected_rows", "raw._landed_files"]
    with connect(settings) as con:
        return {r: relation_checksum(con, r, LOADED_AT) for r in relations}


def test_a_refused_connection_is_transient(tmp_path: Path) -> None:
    settings = make_warehouse(tmp_path).settings
    publisher = PostgresPublisher(replace(settings, target="postgres", pg_port=1))
    with pytest.raises(TransientError, match="Connection refused"):
        publisher.published_runs()


@pytest.mark.postgres
def test_postgres_loader_lands_what_duckdb_lands(
    plan: DeliveryPlan, postgres_server: PostgresServer, tmp_path: Path
) -> None:
    duck = make_warehouse(tmp_path / "duckdb").settings
    pg = make_warehouse(tmp_path / "pg", landing=duck.landing_dir, postgres=postgres_server)
    pg = pg.settings
    first, second = plan.delivery_dates[:2]
    plan.land(duck.landing_dir, through=second)
    orders = duck.landing_dir / "orders" / f"dt={second}"
    # A line the reader cannot split, and quoting, commas and an empty value that must survive.
    (orders / "part-0001.csv").write_text(
        "id,customer,ordered_at,store_id,subtotal,tax_paid,order_total,status,updated_at\n"
        'o-1,"Doe, ""J""",2018-09-02T10:00:00,s1,100,6,106,,2018-09-02T10:00:00\n'
        "o-2,c2,2018-09-02T10:00:00,s1,100,6,106,placed,2018-09-02T10:00:00,extra,fields\n"
        "o-3,c3,2018-09-02T11:00:00,s1,1OO,6,106,placed,2018-09-02T11:00:00\n"
    )
    (orders / "part-0002.csv").write_bytes(b"\xef\xbb\xbfid,customer\n")  # quarantined: a BOM
    tables = load_source_tables(duck.project_dir)

    duck_report = load(duck, through=second)
    pg_report = load(pg, through=second)
    assert pg_report == duck_report
    assert [f.source_file for f in pg_report.quarantined] == [f"orders/dt={second}/part-0002.csv"]
    assert raw_tables(pg, tables) == raw_tables(duck, tables)

    # A re-run skips every file, but a quarantined one stays quarantined (the ledger is shared by
    # every audit on PostgreSQL), without being read again; a re-delivered file replaces its rows.
    rerun = load(pg, second)
    assert {f.status for f in rerun.files} == {"unchanged", "quarantined"}
    assert [(f.source_file, f.fresh) for f in rerun.quarantined] == [
        (f.source_file, False) for f in pg_report.quarantined
    ]
    (orders / "part-0001.csv").write_text(
        "id,customer,ordered_at,store_id,subtotal,tax_paid,order_total,status,updated_at\n"
        "o-1,c1,2018-09-02T10:00:00,s1,100,6,106,placed,2018-09-02T10:00:00\n"
    )
    replaced = [f for f in load(pg, second).new_files]
    load(duck, second)
    assert [(f.status, f.rows_loaded) for f in replaced] == [("replaced", 1)]
    assert raw_tables(pg, tables) == raw_tables(duck, tables)
