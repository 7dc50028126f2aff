"""Connections to the PostgreSQL target's server, for its loader and its publisher."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg2
from psycopg2 import sql

from durable.config import Settings
from durable.retry import TransientError, is_transient


def connect(settings: Settings) -> psycopg2.extensions.connection:
    """A connection to the target's server; a refused or dropped one is a TransientError."""
    try:
        return psycopg2.connect(
            host=settings.pg_host,
            port=settings.pg_port,
            user=settings.pg_user,
            password=settings.pg_password or None,
            dbname=settings.pg_database,
            application_name="durable",
        )
    except psycopg2.OperationalError as error:
        if is_transient(str(error)):
            raise TransientError(
                f"postgres {settings.pg_host}:{settings.pg_port}: {error}"
            ) from None
        raise


@contextmanager
def connection(settings: Settings) -> Iterator[psycopg2.extensions.connection]:
    con = connect(settings)
    try:
        yield con
    finally:
        con.close()


def ident(*names: str) -> sql.Composed:
    """A qualified identifier, each part quoted by psycopg2."""
    return sql.SQL(".").join(sql.Identifier(n) for n in names)
