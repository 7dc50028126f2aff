"""One side of `durable verify` on PostgreSQL: counts, checksums and per-key digests.

Production and the rebuild are schemas of one database (`analytics` and `analytics__verify`),
read through one connection. Relations are named as production names them; the rebuilt side maps
each schema to its scratch twin. A row's hash is the first 60 bits of the md5 of its text (the
server's own text of each value, the same for both schemas), summed as numeric so the checksum
ignores row order but counts duplicates.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

import psycopg2.extensions
from psycopg2 import sql

from durable.config import Settings
from durable.engines.comparison import BUCKETS, NULL_TEXT, Digest, Selection
from durable.engines.postgres.connection import connection, ident

SchemaMap = Callable[[str], str]


class PostgresSide:
    """Read-only queries on one side, production or the rebuild, of one database."""

    def __init__(
        self, cursor: psycopg2.extensions.cursor, schema_of: SchemaMap = lambda s: s
    ) -> None:
        self.cur = cursor
        self.schema_of = schema_of

    def _rows(self, query: sql.Composable, params: Sequence[object] = ()) -> list[tuple]:
        self.cur.execute(query, list(params))
        return self.cur.fetchall()

    def columns(self, schema: str, name: str) -> list[str] | None:
        rows = self._rows(
            sql.SQL(
                "select column_name from information_schema.columns "
                "where table_schema = %s and table_name = %s order by ordinal_position"
            ),
            [self.schema_of(schema), name],
        )
        return [column for (column,) in rows] or None

    def digest(self, selection: Selection) -> Digest:
        ((rows, total),) = self._rows(
            sql.SQL("select count(*), coalesce(sum({}), 0) from {}").format(
                _row_hash(selection), self._source(selection)
            )
        )
        return int(rows), int(total)

    def bucket_digests(self, selection: Selection) -> dict[int, Digest]:
        rows = self._rows(
            sql.SQL("select {} as bucket, count(*), sum({}) from {} group by bucket").format(
                _bucket(selection), _row_hash(selection), self._source(selection)
            )
        )
        return {int(bucket): (int(n), int(total)) for bucket, n, total in rows}

    def key_digests(self, selection: Selection, buckets: Sequence[int]) -> dict[str, Digest]:
        if not buckets:
            return {}
        rows = self._rows(
            sql.SQL(
                "select {} as key, count(*), sum({}) from {} where {} = any(%s) group by key"
            ).format(
                _key_text(selection),
                _row_hash(selection),
                self._source(selection),
                _bucket(selection),
            ),
            [[int(b) for b in buckets]],
        )
        return {str(key): (int(n), int(total)) for key, n, total in rows}

    def lowest_key_hashes(self, selection: Selection, count: int) -> list[str]:
        rows = self._rows(
            sql.SQL("select distinct md5({}) as h from {} order by h limit %s").format(
                _key_text(selection), self._source(selection)
            ),
            [int(count)],
        )
        return [digest for (digest,) in rows]

    def _source(self, selection: Selection) -> sql.Composed:
        """The relation's compared rows, as a subquery."""
        conditions: list[sql.Composable] = []
        if selection.current_only:
            conditions.append(sql.SQL("{} is null").format(sql.Identifier(selection.current_only)))
        if selection.window:
            column, first, last = selection.window
            conditions.append(
                sql.SQL("cast({} as date) between {} and {}").format(
                    sql.Identifier(column), sql.Literal(first), sql.Literal(last)
                )
            )
        if selection.key_bound:
            conditions.append(
                sql.SQL("md5({}) <= {}").format(
                    _key_text(selection), sql.Literal(selection.key_bound)
                )
            )
        where = sql.SQL("")
        if conditions:
            where = sql.SQL(" where ") + sql.SQL(" and ").join(conditions)
        relation = ident(self.schema_of(selection.schema), selection.name)
        return sql.SQL("(select * from {}{}) as compared").format(relation, where)


@contextmanager
def read_only_cursor(settings: Settings) -> Iterator[psycopg2.extensions.cursor]:
    """One read-only transaction for the whole comparison: both schemas at one moment."""
    with connection(settings) as con:
        con.set_session(isolation_level="REPEATABLE READ", readonly=True)
        with con.cursor() as cursor:
            yield cursor
        con.rollback()


def drop_schemas(settings: Settings, *schemas: str) -> None:
    with connection(settings) as con, con, con.cursor() as cursor:
        for schema in schemas:
            cursor.execute(sql.SQL("drop schema if exists {} cascade").format(ident(schema)))


def _texts(columns: Sequence[str]) -> sql.Composed:
    return sql.SQL(", ").join(
        sql.SQL("coalesce(cast({} as text), {})").format(sql.Identifier(c), sql.Literal(NULL_TEXT))
        for c in columns
    )


def _key_text(selection: Selection) -> sql.Composed:
    # One text per key, whatever its columns and types: the sample and the buckets hash it.
    assert selection.key, "a relation without a key is compared whole"
    return sql.SQL("concat_ws('|', {})").format(_texts(selection.key))


def _row_hash(selection: Selection) -> sql.Composed:
    # 60 bits keep the cast to bigint positive; the sum is numeric, so it never overflows.
    return sql.SQL(
        "cast(cast(cast('x' || substr(md5(concat_ws('|', {})), 1, 15) as bit(60)) as bigint) "
        "as numeric)"
    ).format(_texts(selection.columns))


def _bucket(selection: Selection) -> sql.Composed:
    # mod(), not %: psycopg2 reads a bare % as a parameter.
    return sql.SQL("mod(cast(cast('x' || substr(md5({}), 1, 8) as bit(32)) as bigint), {})").format(
        _key_text(selection), sql.Literal(BUCKETS)
    )
