"""Fuzzing the landing zone: nothing a source system writes there can break a run or leak in.

The scanner and the loader are tested case by case elsewhere, but a source system is not bound by
our cases. Here Hypothesis lands random junk beside good deliveries: random names and bytes,
headers full of quotes, semicolons and SQL, impossible and future partition folders, unknown
entity folders, symlinks to a file outside the landing zone. One runner run must then behave as
if only the good files were there: it succeeds, production equals a clean run of the good files,
and every path of the landing zone is accounted for exactly once. Each junk file is unloadable by
construction (its path is no delivery, or its content fails a file-level check), so that oracle is
exact. CI runs DURABLE_FUZZ_EXAMPLES (default 3) examples; `make fuzz` runs many more.
"""

from __future__ import annotations

import codecs
import gzip
import os
import sqlite3
import tempfile
import uuid
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import NamedTuple

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from checks import AUDIT_COLUMNS, MARTS, relation_checksum
from conftest import PROJECT_DIR, copy_published, settings_under
from durable.config import Settings
from durable.errors import ExitCode
from durable.landing.quoting import quote_identifier as quote
from durable.runner import Runner
from durable.sources import load_source_tables
from jaffle_simulator import DeliveryPlan
from jaffle_simulator.layout import FILE_NAME, render

EXAMPLES = int(os.environ.get("DURABLE_FUZZ_EXAMPLES", "3"))
# A run is ~10 s a day (two when junk lands in day 1); Hypothesis stops shrinking after 300 s.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(600 + 60 * EXAMPLES)]
DAYS = (date(2018, 9, 1), date(2018, 9, 2))
TABLES = load_source_tables(PROJECT_DIR)
ENTITIES = tuple(table.name for table in TABLES)
# The declared layout, `{table}/dt={date}/*.csv`: what a partition folder and a file name must be.
_, PARTITION, DELIVERY_NAME = TABLES[0].pattern.segments
# Every entity declares it and no junk text contains it, so a junk header always drops a column.
LEFT_OUT = "updated_at"
COLUMNS = tuple(dict.fromkeys(c for table in TABLES for c in table.columns))
MARKER = f"fuzz-sentinel-{uuid.uuid4().hex}"
# Stands for the path of the sentinel file (outside the landing zone) in generated text.
SENTINEL = "<sentinel>"
GOOD_FILES = {f"{entity}/dt={day}/{FILE_NAME}" for entity in ENTITIES for day in DAYS}


# How a good file is made unloadable; "" leaves it good, for a path that is no delivery.
DAMAGE: dict[str, Callable[[bytes], bytes]] = {
    "": lambda data: data,
    "bom": lambda data: codecs.BOM_UTF8 + data,
    "truncated": lambda data: data.rstrip(b"\n"),
    "gzip-cut": lambda data: (zipped := gzip.compress(data))[: len(zipped) // 2],
}


class Good(NamedTuple):
    entity: str  # its day-1 file, as damaged
    damage: str


class Link(NamedTuple):
    target: str  # "file" | "folder": the sentinel file or its folder


@dataclass(frozen=True)
class Junk:
    path: str
    content: bytes | Good | Link
    expect: str  # its file_status in delivery_accounting

    def __repr__(self) -> str:
        return f"{self.path!r}: {self.content!r} -> {self.expect}"


def unloadable(data: bytes) -> bool:
    # Without gzip's first byte, random bytes are never a valid gzip stream of a good file.
    return LEFT_OUT not in data.decode("utf-8", "replace").lower() and not data.startswith(b"\x1f")


NAME = st.text(
    st.characters(exclude_categories=("Cs",), exclude_characters="/\x00"), min_size=1, max_size=20
).filter(lambda name: name not in (".", ".."))
TRICKY_NAMES = ("'; drop table raw.orders; --.csv", 'a"b.csv', "..csv", ".hidden.csv",
                " part-0000.csv", "part-0000.csv ", "part 0000.csv", "part-0000.csv.bak", "x.csv\n",
                "x.csv;", "x'.csv", "ördérs.csv", "x.tsv", "x.csv.zip", "x.parquet")  # fmt: skip
names = st.one_of(st.sampled_from(TRICKY_NAMES), NAME)
stray_names = names.filter(lambda name: not DELIVERY_NAME.accepts(name))
delivery_names = st.from_regex(
    r"[A-Za-z0-9][A-Za-z0-9._-]{0,12}\.(csv|CSV|Csv)(\.gz|\.GZ)?", fullmatch=True
).filter(lambda name: name != FILE_NAME)
SQL = ("", "'", '"', ";", "--", "/*", "*/", "$$", "\\", "?", "%s", "\r", "\t", "\\N", "NULL",
       "'}) union all select 1 --", '"); drop table raw.orders; --',
       f"read_text('{SENTINEL}')",
       f"' || (select content from read_text('{SENTINEL}')) || '")  # fmt: skip
header_field = st.one_of(
    st.sampled_from(SQL),
    st.sampled_from([c for c in COLUMNS if c != LEFT_OUT]).flatmap(
        lambda c: st.sampled_from([c, c.upper(), f" {c} ", f'"{c}"'])
    ),
    NAME,
)
junk_headers = st.builds(
    lambda fields, separator, rows: (separator.join(fields) + "\n" + "".join(rows)).encode(),
    st.lists(header_field, min_size=1, max_size=8),
    st.sampled_from([",", ";", ", "]),
    st.lists(NAME.map(lambda row: row + "\n"), max_size=3),
)
unloadable_content = st.one_of(
    junk_headers.filter(unloadable),
    st.binary(max_size=200).filter(unloadable),
    st.builds(Good, st.sampled_from(ENTITIES), st.sampled_from(list(DAMAGE)[1:])),
)
any_content = st.one_of(unloadable_content, st.builds(Good, st.sampled_from(ENTITIES), st.just("")))
invalid_partitions = st.one_of(
    st.sampled_from(("dt=2018-13-45", "dt=2018-02-30", "dt=0000-01-01", "DT=2018-09-02",
                     "dt=2018-9-2", "dt=20180902", "dt=2018-09-02 ", "date=2018-09-02")),
    st.from_regex(r"dt=\d{4}-\d{2}-\d{2}", fullmatch=True),
    NAME,
).filter(lambda name: not PARTITION.accepts(name))  # fmt: skip
future_partitions = st.dates(date.today() + timedelta(days=30)).map(lambda day: f"dt={day}")
unknown_entities = st.one_of(
    st.sampled_from(("Orders", "orders ", "order", "landed_files", "_landed_files", "raw")),
    NAME,
).filter(lambda name: name not in ENTITIES)


@st.composite
def junk_file(draw: st.DrawFn) -> Junk:
    entity, day = draw(st.sampled_from(ENTITIES)), draw(st.sampled_from(DAYS))
    partition = f"{entity}/dt={day}"
    kinds = ["bad file", "stray", "partition", "future", "entity", "depth", "link"]
    kind = draw(st.sampled_from(kinds))
    if kind == "bad file":
        return Junk(f"{partition}/{draw(delivery_names)}", draw(unloadable_content), "quarantined")
    if kind == "stray":
        return Junk(f"{partition}/{draw(stray_names)}", draw(any_content), "reported")
    if kind == "partition":
        folder = draw(invalid_partitions)
        return Junk(f"{entity}/{folder}/{draw(names)}", draw(any_content), "reported")
    if kind == "future":
        folder = draw(future_partitions)
        return Junk(f"{entity}/{folder}/{draw(delivery_names)}", draw(any_content), "held")
    if kind == "entity":
        return Junk(f"{draw(unknown_entities)}/dt={day}/{FILE_NAME}", draw(any_content), "reported")
    name = draw(st.one_of(delivery_names, st.just("dt=2018-09-03"), names))
    if kind == "depth":
        folder = draw(st.sampled_from(["", f"{entity}/", f"{partition}/{draw(names)}/"]))
        return Junk(folder + name, draw(any_content), "reported")
    folder = draw(st.sampled_from(["", f"{entity}/", f"{partition}/"]))
    return Junk(folder + name, draw(st.sampled_from([Link("file"), Link("folder")])), "reported")


def parents(path: str) -> set[str]:
    parts = path.split("/")
    return {"/".join(parts[:i]) for i in range(1, len(parts))}


@st.composite
def landings(draw: st.DrawFn) -> list[Junk]:
    """Junk that fits beside the good files and itself: no path is another's folder or twin."""
    files, folders, kept = set(GOOD_FILES), set().union(*map(parents, GOOD_FILES)), []
    for junk in draw(st.lists(junk_file(), min_size=1, max_size=10)):
        if junk.path not in files | folders and parents(junk.path).isdisjoint(files):
            files.add(junk.path)
            folders |= parents(junk.path)
            kept.append(junk)
    return kept


def write(junk: Junk, landing: Path, good: dict[str, bytes], sentinel: Path) -> None:
    path = landing / junk.path
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(junk.content, Link):
        path.symlink_to(sentinel if junk.content.target == "file" else sentinel.parent)
    elif isinstance(junk.content, Good):
        path.write_bytes(DAMAGE[junk.content.damage](good[junk.content.entity]))
    else:
        path.write_bytes(junk.content.replace(SENTINEL.encode(), str(sentinel).encode()))


class Production(NamedTuple):
    marts: dict[str, tuple[int, str]]
    raw_rows: dict[str, int]
    accounting: list[tuple]  # (source_file, file_status, the row counts...)
    leaks: list[str]  # relations holding MARKER, which only the sentinel file holds


def production(run: Settings) -> Production:
    with duckdb.connect(str(run.duckdb_path), read_only=True) as con:
        marts = {m: relation_checksum(con, f"{run.schema}.{m}", AUDIT_COLUMNS) for m in MARTS}
        raw_rows = {
            e: con.execute(f"select count(*) from {quote(run.raw_schema)}.{quote(e)}").fetchone()[0]
            for e in ENTITIES
        }
        accounting = con.execute(
            "select source_file, file_status, rows_delivered, rows_loaded, rows_quarantined, "
            f"rows_held, rows_in_raw from {quote(run.schema)}.delivery_accounting"
        ).fetchall()
        return Production(marts, raw_rows, accounting, leaks(con))


def leaks(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Tables and views with MARKER in a text column: every one, raw, staging, marts, ledgers."""
    columns: dict[str, list[str]] = {}
    for schema, table, column in con.execute(
        "select schema_name, table_name, column_name from duckdb_columns() "
        "where not internal and data_type = 'VARCHAR'"
    ).fetchall():
        columns.setdefault(f"{quote(schema)}.{quote(table)}", []).append(quote(column))
    found = []
    for relation, names in columns.items():
        where = " or ".join(f"contains({name}, ?)" for name in names)
        query = f"select count(*) from {relation} where {where}"
        if con.execute(query, [MARKER] * len(names)).fetchone()[0]:
            found.append(relation)
    return found


def landing_files(landing: Path) -> list[str]:
    """Every file of the landing zone, symlinks included as files and never followed."""
    found = []
    for folder, dirs, files in os.walk(landing):
        for name in files + [d for d in dirs if Path(folder, d).is_symlink()]:
            found.append(Path(folder, name).relative_to(landing).as_posix())
    return found


@dataclass(frozen=True)
class Clean:
    published: Settings  # day 1, published by the runner
    plan: DeliveryPlan
    good: dict[str, bytes]  # each entity's day-1 file, to misplace and damage
    production: Production  # after a run of day 2's good files alone


@pytest.fixture(scope="module")
def clean(jafgen_cache: Path, tmp_path_factory: pytest.TempPathFactory) -> Clean:
    root = tmp_path_factory.mktemp("fuzz")
    published = settings_under(root / "day-1", retry_wait=0.1)
    plan = DeliveryPlan.build(seed=5, days=2, cache_dir=jafgen_cache)
    plan.land(published.landing_dir, only=DAYS[0])
    assert Runner(published, progress="quiet").run().exit_code == ExitCode.OK
    baseline = copy_published(published, root / "clean")
    plan.land(baseline.landing_dir, only=DAYS[1])
    report = Runner(baseline, progress="quiet").run()
    assert report.exit_code == ExitCode.OK, report.failure
    good = {entity: render(plan.files[(entity, DAYS[0])], plan.scale) for entity in ENTITIES}
    return Clean(published, plan, good, production(baseline))


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,  # a failure replays from its seed (`make fuzz FUZZ_SEED=...`)
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(junk=landings())
def test_junk_beside_good_deliveries_changes_nothing_but_the_accounting(
    clean: Clean, junk: list[Junk]
) -> None:
    # Hypothesis runs many examples per fixture instance: each gets a directory of its own.
    with tempfile.TemporaryDirectory() as tmp:
        sentinel = Path(tmp) / "outside" / FILE_NAME
        sentinel.parent.mkdir()
        # Loadable as any entity (an added column is accepted): only reading it can leak MARKER.
        sentinel.write_text(",".join(COLUMNS) + "\n" + ",".join([MARKER] * len(COLUMNS)) + "\n")
        run = copy_published(clean.published, Path(tmp) / "run")
        clean.plan.land(run.landing_dir, only=DAYS[1])
        for one in junk:
            write(one, run.landing_dir, clean.good, sentinel)

        report = Runner(run, progress="quiet").run()
        assert report.exit_code == ExitCode.OK, report.failure
        with closing(sqlite3.connect(run.ledger_path)) as ledger:
            states = ledger.execute("select state from runs where run_id = ?", [report.run_id])
            assert states.fetchall() == [("succeeded",)]
        now = production(run)
        assert now.marts == clean.production.marts
        assert now.raw_rows == clean.production.raw_rows
        assert now.leaks == [], "a file outside the landing zone was read"

        assert sorted(row[0] for row in now.accounting) == sorted(landing_files(run.landing_dir))
        for path, status, delivered, loaded, quarantined, *_ in now.accounting:
            assert status in ("loaded", "replaced", "quarantined", "held", "reported"), path
            if status in ("loaded", "replaced", "quarantined"):
                assert delivered == loaded + quarantined, path
        good = [row for row in now.accounting if row[0] in GOOD_FILES]
        assert sorted(good) == sorted(clean.production.accounting), "the good files publish"
        status = {row[0]: row[1] for row in now.accounting}
        assert {j.path: status[j.path] for j in junk} == {j.path: j.expect for j in junk}
