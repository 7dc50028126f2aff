"""The landing zone as a source system leaves it: every path is classified, no file is SQL.

Fast tests of the scan (`durable.landing.zone`) and of reading one file
(`durable.landing.delivery`), without dbt: what each kind of hand-made file becomes, and that a
delivered header, value or name never reaches SQL. The runner-level tests are in
`test_bad_files.py`.
"""

from __future__ import annotations

import csv
import gzip
import io
import os
from datetime import date
from pathlib import Path

import duckdb
import pytest

from conftest import PROJECT_DIR
from durable.landing.delivery import DeliveryRejected, LandedFile, stage
from durable.landing.zone import scan_landing_zone
from durable.sources import load_source_tables
from jaffle_simulator.layout import COLUMNS

TABLES = {table.name: table for table in load_source_tables(PROJECT_DIR)}
TODAY = date(2026, 12, 5)
DAY = "dt=2018-09-02"
# Text a source could put in a header or a value, aimed at whoever builds SQL from it.
HOSTILE = [
    "O'Brien; drop table orders; --",
    "x'), ('y",
    "read_text('/etc/hostname') /* comment */",
    '"quoted", with a comma',
    "two\nlines",
]


def write(path: Path, data: bytes | str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


def csv_text(header: list[str], rows: list[list[str]], line_end: str = "\n") -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator=line_end)
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def customers(names: list[str]) -> list[list[str]]:
    return [[f"c-{i}", name, "2018-09-02T10:00:00"] for i, name in enumerate(names)]


def staged(path: Path, entity: str = "customers") -> tuple[object, list[tuple]]:
    landed = LandedFile(entity, date(2018, 9, 2), path, path.name, "jaffle")
    con = duckdb.connect()
    result = stage(con, landed, TABLES[entity])
    return result, con.execute("select * from _landing_rows order by _row_number").fetchall()


def test_every_path_is_a_delivery_or_a_finding_and_links_are_never_followed(
    tmp_path: Path,
) -> None:
    landing = tmp_path / "landing"
    good = write(landing / "orders" / DAY / "part-0000.csv", "id\n")
    upper = write(landing / "orders" / DAY / "part-0001.CSV", "id\n")
    gzipped = write(landing / "orders" / DAY / "part-0002.csv.gz", gzip.compress(b"id\n"))
    write(landing / "orders" / DAY / "notes.txt", "a note")
    write(landing / "orders" / DAY / "it's; drop.csv", "id\n")
    write(landing / "orders" / DAY / "nested" / "part-0000.csv", "id\n")
    later = write(landing / "orders" / "dt=2018-09-30" / "part-0000.csv", "id\n")
    (landing / "orders" / "dt=2018-13-45").mkdir()
    write(landing / "orders" / "dt=yesterday" / "part-0000.csv", "id\n")
    write(landing / "orders" / "dt=2030-01-01" / "part-0000.csv", "id\n")
    write(landing / "orders" / "part-0000.csv", "id\n")
    write(landing / "refunds" / DAY / "part-0000.csv", "id\n")
    write(landing / "README", "stray")
    secret = write(tmp_path / "secret.txt", "not for the warehouse")
    os.symlink(secret, landing / "orders" / DAY / "part-0003.csv")
    os.symlink(tmp_path, landing / "customers")
    os.symlink(landing / "orders" / DAY, landing / "orders" / "dt=2018-09-03")

    scan = scan_landing_zone(landing, TABLES.values(), today=TODAY)

    assert [f.path for f in scan.deliveries] == [good, upper, gzipped, later]
    found = {f.path: (f.status, f.reason) for f in scan.findings}
    statuses = {path: status for path, (status, _) in found.items()}
    assert statuses == {
        "README": "reported",
        "customers": "reported",
        "orders/part-0000.csv": "reported",
        "orders/dt=2018-09-03": "reported",
        "orders/dt=2018-13-45/": "reported",
        "orders/dt=yesterday/part-0000.csv": "reported",
        "orders/dt=2030-01-01/part-0000.csv": "held",
        f"orders/{DAY}/notes.txt": "reported",
        f"orders/{DAY}/it's; drop.csv": "reported",
        f"orders/{DAY}/nested/part-0000.csv": "reported",
        f"orders/{DAY}/part-0003.csv": "reported",
        "refunds/dt=2018-09-02/part-0000.csv": "reported",
    }
    assert found[f"orders/{DAY}/part-0003.csv"][1] == "symlink, not followed"
    assert "invalid partition folder 'dt=2018-13-45'" in found["orders/dt=2018-13-45/"][1]
    assert "refunds" in found["refunds/dt=2018-09-02/part-0000.csv"][1]
    assert not any("not for the warehouse" in reason for _, reason in found.values())


def test_a_missing_landing_zone_is_empty_not_an_error(tmp_path: Path) -> None:
    scan = scan_landing_zone(tmp_path / "nothing-yet", TABLES.values(), today=TODAY)
    assert scan.deliveries == [] and scan.findings == []


@pytest.mark.parametrize("line_end", ["\n", "\r\n"])
def test_rfc_4180_records_load_and_are_counted_as_records(tmp_path: Path, line_end: str) -> None:
    text = csv_text(list(COLUMNS["customers"]), customers(HOSTILE), line_end) + line_end
    result, rows = staged(write(tmp_path / "part-0000.csv", text))
    assert result.rows_delivered == result.rows_loaded == len(HOSTILE)
    assert [row[1] for row in rows] == HOSTILE, "values arrive as delivered, byte for byte"
    assert [row[-1] for row in rows] == list(range(1, len(HOSTILE) + 1))


def test_header_names_match_regardless_of_case_and_spaces_with_a_warning(tmp_path: Path) -> None:
    header = [" ID", "Name ", "UPDATED_AT"]
    result, rows = staged(write(tmp_path / "p.csv", csv_text(header, customers(["Ann"]))))
    assert rows[0][:3] == ("c-0", "Ann", "2018-09-02T10:00:00")
    assert len(result.warnings) == 3 and "' ID' read as 'id'" in result.warnings[0]


def test_a_header_naming_a_column_twice_is_rejected(tmp_path: Path) -> None:
    path = write(tmp_path / "p.csv", csv_text(["id", "ID", "name", "updated_at"], []))
    with pytest.raises(DeliveryRejected, match="more than once: 'id'"):
        staged(path)


def test_a_hostile_header_is_never_sql(tmp_path: Path) -> None:
    """An added column named like SQL is accepted as drift; its name is only ever compared."""
    secret = write(tmp_path / "secret.txt", "MARKER-4f1c")
    header = [
        *COLUMNS["customers"],
        f"zz': 'varchar'}}) union all select content from read_text('{secret}') --",
        '"; select 1; /*',
    ]
    rows = [[*row, "v1", "v2"] for row in customers(HOSTILE)]
    result, staged_rows = staged(write(tmp_path / "part-0000.csv", csv_text(header, rows)))
    assert result.rows_delivered == result.rows_loaded == len(HOSTILE)
    assert [row[1] for row in staged_rows] == HOSTILE
    assert "MARKER" not in repr(staged_rows)
    assert "column added" in result.warnings[0] and "read_text" in result.warnings[0]


@pytest.mark.parametrize("name", ["part-0000.csv.gz", "part-0000.csv"])
def test_gzip_loads_whatever_its_name(tmp_path: Path, name: str) -> None:
    text = csv_text(list(COLUMNS["customers"]), customers(["Ann", "Bo"]))
    result, rows = staged(write(tmp_path / name, gzip.compress(text.encode())))
    assert result.rows_loaded == result.rows_delivered == 2
    assert ("not named .gz" in " ".join(result.warnings)) == name.endswith(".csv")


@pytest.mark.parametrize(
    ("data", "problem", "rows"),
    [
        (
            gzip.compress(b"id,name,updated_at\nc-1,Ann,2018-09-02\n", mtime=0)[:-9],
            "damaged gzip",
            0,
        ),
        ("id,name,updated_at\nc-1,Renée,2018-09-02\n".encode("cp1252"), "not UTF-8", 1),
        (bytes(range(256)) * 4, "not UTF-8", None),
        (b"", "empty file", 0),
        (b"id,name,updated_at\nc-1,Ann", "truncated", 1),
    ],
    # Ids of their own: gzip's header holds a time, and pytest-xdist workers must collect the
    # same test names.
    ids=["damaged gzip", "cp1252", "binary", "empty", "truncated"],
)
def test_unreadable_files_are_rejected_with_their_records_counted(
    tmp_path: Path, data: bytes, problem: str, rows: int | None
) -> None:
    with pytest.raises(DeliveryRejected, match=problem) as rejected:
        staged(write(tmp_path / "part-0000.csv", data))
    if rows is not None:
        assert rejected.value.rows_delivered == rows
