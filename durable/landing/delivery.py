"""Reading one delivered file: file-level checks, schema drift, and its rows with lineage.

Every engine's loader stages a file here first, in a DuckDB connection (DuckDB's CSV reader is
the one reader the project trusts), so the rules are the same everywhere:

- No delivered byte is SQL. The reader is handed the file's path as a parameter and column names
  of our own (`column_1`, ...); the header's names are only compared, in Python, with the
  declared ones.
- File-level problems reject the whole delivery with a message naming the file: an empty or
  truncated file (no final line end), bytes that are not UTF-8, a UTF-8 byte-order mark, a
  damaged gzip stream, and schema drift the source's policy does not accept (by default: a
  dropped, renamed or retyped column).
- Forgiving where it is safe: header names match regardless of case and surrounding spaces, and
  a gzip-compressed file loads whatever its name (both with a warning). An added column is
  accepted by default and reported; the declared columns are loaded.
- Rows are counted as CSV records by Python's `csv` module, independently of DuckDB's reader
  (quoted fields may hold line ends), so the accounting can catch a row the reader dropped.
- Lines the reader cannot split into the header's columns are kept, with the reader's message,
  as rejected rows; every other row is loaded as text with its file, delivery date and row number.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import re
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import BinaryIO

import duckdb

from durable.landing.quoting import quote_identifier as quote
from durable.sources import SourceTable

BOM = codecs.BOM_UTF8
GZIP_MAGIC = b"\x1f\x8b"
# A column is retyped, not just holding a few bad values, when most of its values stop parsing.
RETYPED_SHARE = 0.5
RETYPED_MIN_VALUES = 3
SHOWN_CHARACTERS = 60  # of a delivered name quoted in a message: enough to recognise it
PLAIN_NAME = re.compile(r"[a-z_][a-z0-9_]{0,59}")

PARSES = {
    "bigint": "regexp_full_match(trim({c}), '[+-]?[0-9]+')",
    "timestamp": "try_cast(trim({c}) as timestamp) is not null",
    "date": "try_cast(trim({c}) as date) is not null",
    "integer": "regexp_full_match(trim({c}), '[+-]?[0-9]+')",
    "double": "try_cast(trim({c}) as double) is not null",
    "decimal": "try_cast(trim({c}) as decimal(18, 6)) is not null",
    "boolean": "lower(trim({c})) in ('true', 'false')",
}


class DeliveryRejected(Exception):
    """A file that cannot be loaded as delivered; names the file and the problem."""

    def __init__(self, source_file: str, problem: str, rows_delivered: int = 0) -> None:
        super().__init__(f"delivery rejected: {source_file}: {problem}")
        self.source_file = source_file
        self.problem = problem
        self.rows_delivered = rows_delivered


@dataclass(frozen=True)
class LandedFile:
    entity: str  # the table's name in its source
    delivery_date: date
    path: Path
    source_file: str  # path relative to the landing dir: stable across machines and clones
    source: str  # the dbt source of the table: (source, entity) identifies it


@dataclass
class StagedDelivery:
    """What `stage` left in temp tables `_landing_rows` and `_landing_rejected`.

    `rows_delivered` counts the file's CSV records independently of DuckDB's reader, so the
    accounting test can catch a row the reader dropped without saying so.
    """

    rows_delivered: int
    rows_loaded: int
    rows_rejected: int
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class CheckedFile:
    header: list[str]
    rows_delivered: int
    gzipped: bool


def shown(text: str) -> str:
    """Delivered text quoted for a message: escaped, on one line, and cut to a readable length."""
    cut = text if len(text) <= SHOWN_CHARACTERS else text[:SHOWN_CHARACTERS] + "..."
    return repr(cut)


def is_gzipped(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(len(GZIP_MAGIC)) == GZIP_MAGIC


@contextmanager
def open_delivery(path: Path, gzipped: bool) -> Iterator[BinaryIO]:
    """The file's bytes, decompressed when it is gzip."""
    with path.open("rb") as raw:
        yield gzip.GzipFile(fileobj=raw) if gzipped else raw


def count_records(path: Path, gzipped: bool, encoding: str = "utf-8") -> tuple[list[str], int]:
    """The header and the number of non-empty CSV records after it (RFC 4180 quoting)."""
    with open_delivery(path, gzipped) as stream:
        text = io.TextIOWrapper(stream, encoding=encoding, newline="")
        records = csv.reader(text, strict=True)
        header = next(records, [])
        return header, sum(1 for record in records if record)


def rows_of_rejected_file(path: Path, gzipped: bool) -> int:
    """Best count of a rejected file's records, so its rows are accounted as quarantined: a file
    in another encoding still splits into the same records, read byte for byte as latin-1."""
    try:
        return count_records(path, gzipped, encoding="latin-1")[1]
    except (csv.Error, OSError, EOFError, zlib.error):
        return 0


def _check_bytes(landed: LandedFile, stream: BinaryIO) -> None:
    reject = lambda problem: DeliveryRejected(landed.source_file, problem)  # noqa: E731
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset, last = 0, b""
    for chunk in iter(lambda: stream.read(1 << 20), b""):
        if offset == 0 and chunk.startswith(BOM):
            raise reject("starts with a UTF-8 byte-order mark; deliveries must be plain UTF-8")
        try:
            decoder.decode(chunk)
        except UnicodeDecodeError as error:
            byte = chunk[error.start : error.start + 1]
            raise reject(
                f"not UTF-8 (byte {offset + error.start}: {byte!r}; wrong encoding?)"
            ) from None
        offset += len(chunk)
        last = chunk[-1:]
    if offset == 0:
        raise reject("empty file: not even a header (corrupt delivery)")
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        raise reject("not UTF-8: the file ends inside a character (truncated?)") from None
    if last != b"\n":
        raise reject("truncated: the last row has no line end")


def check_file(landed: LandedFile) -> CheckedFile:
    """The header and the number of CSV records; rejects a corrupt, truncated or mis-encoded
    file, with the count of its records for the accounting."""
    gzipped = False
    try:
        gzipped = is_gzipped(landed.path)
        with open_delivery(landed.path, gzipped) as stream:
            _check_bytes(landed, stream)
        header, rows = count_records(landed.path, gzipped)
    except DeliveryRejected as rejected:
        rejected.rows_delivered = rows_of_rejected_file(landed.path, gzipped)
        raise
    except (OSError, EOFError, zlib.error) as error:
        problem = f"damaged gzip stream ({error})" if gzipped else f"cannot be read ({error})"
        raise DeliveryRejected(landed.source_file, problem) from None
    except csv.Error as error:
        raise DeliveryRejected(
            landed.source_file,
            f"not CSV: {error}",
            rows_of_rejected_file(landed.path, gzipped),
        ) from None
    return CheckedFile(header, rows, gzipped)


def match_header(landed: LandedFile, header: list[str]) -> tuple[list[str], list[str]]:
    """The header's names as the project spells them (trimmed, lower case), and a warning for
    each name that needed it; rejects a header naming a column twice."""
    names = [name.strip().lower() for name in header]
    warnings = [
        f"header name {shown(raw)} read as {shown(name)}"
        for raw, name in zip(header, names, strict=True)
        if raw != name
    ]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise DeliveryRejected(
            landed.source_file,
            f"header names a column more than once: {', '.join(shown(n) for n in repeated)}",
        )
    return names, warnings


def named(name: str) -> str:
    """A delivered column name in a message: as is when it is a plain name, else quoted."""
    return name if PLAIN_NAME.fullmatch(name) else shown(name)


def check_drift(landed: LandedFile, table: SourceTable, header: list[str]) -> list[str]:
    """Apply the source's drift policy to the header; return warnings for accepted drift."""
    added = [named(c) for c in header if c not in table.columns]
    # The delete marker is optional: a file without it holds upserts only.
    dropped = [c for c in table.columns if c not in header and c != table.delete_marker]
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
    # Whatever the policy accepts, a row without (all of) its key can be neither deduplicated
    # nor corrected by a later version: a file that lacks a key column cannot be used.
    keyless = [c for c in table.primary_key if c in dropped]
    if keyless:
        raise DeliveryRejected(
            landed.source_file,
            f"{message}; the primary key ({', '.join(table.primary_key)}) lacks "
            f"{', '.join(keyless)}",
        )
    return [message] if policy[kind] == "warn" else []


def check_types(con: duckdb.DuckDBPyConnection, landed: LandedFile, table: SourceTable) -> None:
    """Reject the file when a typed column mostly stopped parsing: the source retyped it."""
    # decimal(6, 4) parses as a decimal: the precision is the model's business.
    kinds = {c: t.split("(")[0].strip().lower() for c, t in table.column_types.items()}
    # Other types are checked row by row only (the base model quarantines what does not cast).
    typed = {c: t for c, t in kinds.items() if t in PARSES}
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
    checked = check_file(landed)
    try:
        return _read(con, landed, table, checked)
    except DeliveryRejected as rejected:
        rejected.rows_delivered = checked.rows_delivered
        raise


def _read(
    con: duckdb.DuckDBPyConnection, landed: LandedFile, table: SourceTable, checked: CheckedFile
) -> StagedDelivery:
    header, warnings = match_header(landed, checked.header)
    if checked.gzipped and not landed.source_file.lower().endswith(".gz"):
        warnings.append("gzip-compressed although not named .gz: read decompressed")
    warnings += check_drift(landed, table, header)
    # The reader's column names are ours, by position: the header's text never reaches SQL.
    positions = {name: f"column_{i}" for i, name in enumerate(header, start=1)}
    read_columns = "{" + ", ".join(f"'{c}': 'varchar'" for c in positions.values()) + "}"
    for leftover in ("_landing_rejects", "_landing_scans"):
        con.execute(f"drop table if exists {leftover}")
    try:
        con.execute(
            f"""create or replace temp table _landing_read as
            select * from read_csv(?, header = true, auto_detect = false,
                columns = {read_columns}, delim = ',', quote = '"', escape = '"',
                compression = ?, store_rejects = true, rejects_table = '_landing_rejects',
                rejects_scan = '_landing_scans')""",
            [str(landed.path), "gzip" if checked.gzipped else "none"],
        )
    except duckdb.Error as error:
        raise DeliveryRejected(
            landed.source_file, f"unreadable CSV: {str(error).splitlines()[0]}"
        ) from None
    # Data rows are numbered from 1 in file order (DuckDB numbers records, not line ends).
    # Rejected lines are not in the read, so a good row's number is its ordinal plus the
    # rejected rows before it.
    con.execute(
        """create or replace temp table _landing_rejected as
        select distinct line - 1 as _row_number, csv_line as raw_line,
            error_type::varchar as error_type, error_message
        from _landing_rejects"""
    )
    # Declared columns only, in declared order; one a lenient policy let go of is null.
    columns = ", ".join(
        f"{positions.get(c, 'cast(null as varchar)')} as {quote(c)}" for c in table.columns
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
    return StagedDelivery(checked.rows_delivered, loaded, rejected, warnings)
