"""One side of `durable verify` on DuckDB: counts, checksums and per-key digests of a relation.

Production and the rebuilt warehouse are read in separate connections, never attached together:
DuckDB names a database after its file and dbt's views store qualified names, so the rebuild is
a file named like production, and two catalogs of one name cannot share a connection. Only
aggregates cross between the two: a count and a checksum per relation, then per bucket of keys,
then the keys of the buckets that differ. A large relation with a few drifted rows is compared
without either side's rows leaving its database.
"""

from __future__ import annotations

from collections.abc import Sequence

import duckdb

from durable.engines.comparison import BUCKETS, NULL_TEXT, Digest, Selection
from durable.landing.quoting import quote_identifier as quote


class DuckDBSide:
    """Read-only queries on one warehouse file: production or the rebuild."""

    def __init__(self, connection: duckdb.DuckDBPyConnection) -> None:
        self.con = connection

    def columns(self, schema: str, name: str) -> list[str] | None:
        """The relation's columns in order, or None when it does not exist here."""
        rows = self.con.execute(
            "select column_name from duckdb_columns() where database_name = current_database() "
            "and schema_name = ? and table_name = ? order by column_index",
            [schema, name],
        ).fetchall()
        return [column for (column,) in rows] or None

    def digest(self, selection: Selection) -> Digest:
        rows, total = self.con.execute(
            f"select count(*), coalesce(sum({_row_hash(selection)}), 0) from {_source(selection)}"
        ).fetchone()
        return int(rows), int(total)

    def bucket_digests(self, selection: Selection) -> dict[int, Digest]:
        rows = self.con.execute(
            f"select hash({_key_text(selection)}) % {BUCKETS} as bucket, count(*), "
            f"sum({_row_hash(selection)}) from {_source(selection)} group by bucket"
        ).fetchall()
        return {int(bucket): (int(n), int(total)) for bucket, n, total in rows}

    def key_digests(self, selection: Selection, buckets: Sequence[int]) -> dict[str, Digest]:
        if not buckets:
            return {}
        listed = ", ".join(str(int(b)) for b in buckets)
        rows = self.con.execute(
            f"select {_key_text(selection)} as key, count(*), sum({_row_hash(selection)}) "
            f"from {_source(selection)} where hash({_key_text(selection)}) % {BUCKETS} "
            f"in ({listed}) group by key"
        ).fetchall()
        return {str(key): (int(n), int(total)) for key, n, total in rows}

    def lowest_key_hashes(self, selection: Selection, count: int) -> list[str]:
        """The `count` smallest md5s of the relation's keys: a sample of N keys is the N keys
        with the smallest md5 over both sides, the same whatever the order of the rows."""
        rows = self.con.execute(
            f"select distinct md5({_key_text(selection)}) as h from {_source(selection)} "
            f"order by h limit {int(count)}"
        ).fetchall()
        return [digest for (digest,) in rows]


def _key_text(selection: Selection) -> str:
    # One text per key, whatever its columns and types: the sample and the buckets hash it.
    assert selection.key, "a relation without a key is compared whole"
    parts = ", ".join(
        f"coalesce(cast({quote(c)} as varchar), '{NULL_TEXT}')" for c in selection.key
    )
    return f"concat_ws('|', {parts})"


def _row_hash(selection: Selection) -> str:
    # hash() is DuckDB's own, the same in one process for both files; summed as hugeint, so the
    # checksum ignores row order but counts duplicates.
    columns = ", ".join(quote(c) for c in selection.columns)
    return f"cast(hash({columns}) as hugeint)"


def _source(selection: Selection) -> str:
    """The relation's compared rows, as a subquery."""
    conditions = []
    if selection.current_only:
        conditions.append(f"{quote(selection.current_only)} is null")
    if selection.window:
        column, first, last = selection.window
        conditions.append(f"cast({quote(column)} as date) between date '{first}' and date '{last}'")
    if selection.key_bound:
        conditions.append(f"md5({_key_text(selection)}) <= '{selection.key_bound}'")
    where = f" where {' and '.join(conditions)}" if conditions else ""
    relation = f"{quote(selection.schema)}.{quote(selection.name)}"
    return f"(select * from {relation}{where}) as compared"
