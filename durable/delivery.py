"""Reading one delivered file: file-level checks, schema drift, and its rows with lineage.

Every engine's loader stages a file here first, in a DuckDB connection (DuckDB's CSV reader is
the one reader the project trusts), so the rules are the same everywhere:

- File-level problems reject the whole delivery with a message naming the file: an empty or
  truncated file (no final line end), bytes that are not UTF-8, a UTF-8 byte-order mark, and schema
  drift the source's policy does not accept (by default: a dropped, renamed or retyped column).
- An added column is accepted by default and reported; the declared columns are loaded.
- Lines the reader cannot split into the header's columns are kept, with the reader's message,
  as rejected rows; every other row is loaded as text with its file, delivery date and row number.
"""

from __future__ import annotations

import codecs
import csv
import io
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb

from durable.sources import SourceTable

BOM = codecs.BOM_UTF8
# A column is retyped, not just holding a few bad values, when most of its values stop parsing.
RETYPED_SHARE = 0.5
RETYPED_MIN_VALUES = 3

PARSES = {
    "bigint": "regexp_full_match(trim({c}), '[+-]?[0-9]+')",
    "timestamp": "try_cast(trim({c}) as timestamp) is not null",
    "decimal": "try_cast(trim({c}) as decimal(18, 6)) is not null",
    "boolean": "lower(trim({c})) in ('true', 'false')",
}


class DeliveryRejected(Exception):
    """A file that cannot be loaded as delivered; names the file and the problem."""

    def __init__(self, source_file: str, problem: str) -> None:
        super().__init__(f"delivery rejected: {source_file}: {problem}")
        self.source_file = source_file
        self.problem = problem


@dataclass(frozen=True)
class LandedFile:
    entity: str
    delivery_date: date
    path: Path
    source_file: str  # path relative to the landing dir: stable across machines and clones


@dataclass
class StagedDelivery:
    """What `stage` left in temp tables `_landing_rows` and `_landing_rejected`.

    `rows_delivered` counts the file's data lines independently of the CSV reader, so the
    accounting test can catch a row the reader dropped without saying so.
    """

    rows_delivered: int
    rows_loaded: int
    rows_rejected: int
    warnings: list[str] = field(default_factory=list)


def quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def check_file(landed: LandedFile) -> tuple[list[str], int]:
    """The header's columns and the number of data lines; rejects a corrupt, truncated or
    mis-encoded file."""
    reject = lambda problem: DeliveryRejected(landed.source_file, problem)  # noqa: E731
    with landed.path.open("rb") as handle:
        head = handle.read(len(BOM))
        if not head:
            raise reject("empty file: not even a header (corrupt delivery)")
        if head == BOM:
            raise reject("starts with a UTF-8 byte-order mark; deliveries must be plain UTF-8")
        handle.seek(0)
        decoder = codecs.getincrementaldecoder("utf-8")()
        offset, last, lines = 0, b"", 0
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            lines += chunk.count(b"\n")
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as error:
                byte = chunk[error.start : error.start + 1]
                raise reject(
                    f"not UTF-8 (byte {offset + error.start}: {byte!r}; wrong encoding?)"
                ) from None
            offset += len(chunk)
            last = chunk[-1:]
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            raise reject("not UTF-8: the file ends inside a character (truncated?)") from None
    if last != b"\n":
        raise reject("truncated: the last row has no line end")
    with landed.path.open(newline="", encoding="utf-8") as handle:
        return next(csv.reader(io.StringIO(handle.readline())), []), lines - 1


def check_drift(landed: LandedFile, table: SourceTable, header: list[str]) -> list[str]:
    """Apply the source's drift policy to the header; return warnings for accepted drift."""
    added = [c for c in header if c not in table.columns]
    dropped = [c for c in table.columns if c not in header]
    policy = {"added": "warn", "dropped": "error", "renamed": "error", **table.drift_policy}
    if dropped and added:
        kind, detail = "renamed", f"{', '.join(dropped)} -> {', '.join(added)}?"
    elif dropped:
        kind, detail = "dropped", ", ".join(dropped)
    elif added:
        kind, detail = "added", ", ".join(added)
    else:
        return []
    message = f"schema drift: column {kind}: {detail} (policy for {table.name}: {policy[kind]})"
    if policy[kind] == "error":
        raise DeliveryRejected(landed.source_file, message)
    return [message] if policy[kind] == "warn" else []


def check_types(con: duckdb.DuckDBPyConnection, landed: LandedFile, table: SourceTable) -> None:
    """Reject the file when a typed column mostly stopped parsing: the source retyped it."""
    typed = {c: t for c, t in table.column_types.items() if t in PARSES}
    if not typed:
        return
    parses = {c: PARSES[t].format(c=quote(c)) for c, t in typed.items()}
    measures = ", ".join(
        f"count(nullif(trim({quote(c)}), '')), count(*) filter (where {parses[c]})" for c in typed
    )
    counts = con.execute(f"select {measures} from _landing_rows").fetchone()
    for i, (column, data_type) in enumerate(typed.items()):
        present, parsed = counts[2 * i], counts[2 * i + 1]
        if present >= RETYPED_MIN_VALUES and parsed < RETYPED_SHARE * present:
            example = con.execute(
                f"select {quote(column)} from _landing_rows where not ({parses[column]}) "
                f"and nullif(trim({quote(column)}), '') is not null limit 1"
            ).fetchone()[0]
            raise DeliveryRejected(
                landed.source_file,
                f"schema drift: column retyped: {column} holds {present - parsed} of {present} "
                f"values that are not {data_type} (e.g. {example!r})",
            )


def stage(con: duckdb.DuckDBPyConnection, landed: LandedFile, table: SourceTable) -> StagedDelivery:
    """Check and read one file into temp tables `_landing_rows` and `_landing_rejected` of `con`."""
    header, data_lines = check_file(landed)
    warnings = check_drift(landed, table, header)
    read_columns = "{" + ", ".join(f"'{c}': 'varchar'" for c in header) + "}"
    for leftover in ("_landing_rejects", "_landing_scans"):
        con.execute(f"drop table if exists {leftover}")
    try:
        con.execute(
            f"""create or replace temp table _landing_read as
            select * from read_csv(?, header = true, auto_detect = false,
                columns = {read_columns}, delim = ',', quote = '"', escape = '"',
                store_rejects = true, rejects_table = '_landing_rejects',
                rejects_scan = '_landing_scans')""",
            [str(landed.path)],
        )
    except duckdb.Error as error:
        raise DeliveryRejected(
            landed.source_file, f"unreadable CSV: {str(error).splitlines()[0]}"
        ) from None
    # Data rows are numbered from 1 in file order. Rejected lines are not in the read, so a good
    # row's number is its ordinal plus the rejected rows before it.
    con.execute(
        """create or replace temp table _landing_rejected as
        select distinct line - 1 as _row_number, csv_line as raw_line,
            error_type::varchar as error_type, error_message
        from _landing_rejects"""
    )
    # Declared columns only, in declared order; one a lenient policy let go of is null.
    columns = ", ".join(
        quote(c) if c in header else f"cast(null as varchar) as {quote(c)}" for c in table.columns
    )
    con.execute(
        f"""create or replace temp table _landing_rows as
        with numbered as (
            -- rowids follow file order but need not start at 0 (transaction-local rows)
            select *, rowid - min(rowid) over () + 1 as ordinal from _landing_read
        ),
        skips as (
            select _row_number - row_number() over (order by _row_number) as good_before
            from _landing_rejected
        )
        select {columns},
            ordinal + (select count(*) from skips where good_before < ordinal) as _row_number
        from numbered"""
    )
    check_types(con, landed, table)
    loaded = con.execute("select count(*) from _landing_rows").fetchone()[0]
    rejected = con.execute("select count(*) from _landing_rejected").fetchone()[0]
    return StagedDelivery(data_lines, loaded, rejected, warnings)
