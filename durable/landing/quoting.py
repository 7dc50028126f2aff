"""One way to put a name or a text into SQL we compose: quoted, with its quote characters doubled.

Values are bound as parameters wherever the driver allows; these are for what cannot be bound:
identifiers (schemas from the environment, declared column names) and Spark's partition values.
"""

from __future__ import annotations


def quote_identifier(name: str) -> str:
    """An identifier for DuckDB and PostgreSQL: "name", embedded quotes doubled."""
    return '"' + name.replace('"', '""') + '"'


def quote_spark_identifier(name: str) -> str:
    """An identifier for Spark SQL: `name`, embedded backticks doubled."""
    return "`" + name.replace("`", "``") + "`"


def spark_string(text: str) -> str:
    """A string literal for Spark SQL, which reads backslash escapes inside quotes."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"
