"""The landed sources, as the dbt project declares them in its own source YAML.

The loader must agree with dbt on which tables are delivered and which columns each carries.
Rather than keep a second list in Python, it reads the `sources:` YAML under the project's
`model-paths`: every source with a `meta.durable` block is landed, so adding a column, a table or
a source is an edit in the place analysts already look. The block says how files arrive:

    meta:
      durable:
        path: "{table}/dt={date}/*.csv"    # under the landing zone (durable/landing/pattern.py)
        format: csv                        # the only format; gzip is recognised by its bytes
        event_time: updated_at             # the column that dates a row's change
        drift_policy: {added: warn, dropped: error, renamed: error}
        on_bad_file: quarantine            # or halt
        expected: {by: "06:00"}            # day D's files are due by 06:00 UTC on D + 1

A table's own `meta` may set `primary_key` (a list of columns), `on_bad_file`, `drift_policy` and
`event_time`, and its `meta.durable` may set `expected` (durable/overdue.py); a column's
`meta.type` is what its text must parse as. `meta: {durable:
{delete_marker: is_deleted}}` says the source also sends deletes: a file may carry that column
(`true`: the key is deleted as of the row's event time), and a file without it is valid; the
raw table always has it (docs/INCREMENTAL.md, "Deletes"). Each landed table loads into
its `identifier` (or name) in the runner's raw schema, which the source reads through
`schema: "{{ env_var('DURABLE_RAW_SCHEMA', 'raw') }}"`. Tables whose identifier starts with `_`
are the loader's own ledger, never a delivery. A mistake in any of this stops the run with one
line naming the YAML file and the source.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import yaml

from durable.errors import BadInput
from durable.expected import Expected, parse_expected
from durable.landing.pattern import LandingPattern, PatternError, compile_pattern

SOURCE_KEYS = ("path", "format", "event_time", "drift_policy", "on_bad_file", "expected")
TABLE_KEYS = ("delete_marker", "expected")
FORMATS = ("csv",)
DRIFT_KINDS = ("added", "dropped", "renamed")
DRIFT_ACTIONS = ("error", "warn", "ignore")
PLAIN_COLUMN = re.compile(r"[a-z_][a-z0-9_]*")
BAD_FILE_POLICIES = ("quarantine", "halt")


class BadDeclaration(BadInput):
    """A landed source the runner cannot use as declared."""


@dataclass(frozen=True)
class SourceTable:
    """One landed table: where its files arrive and which columns a delivery must carry."""

    source: str  # the dbt source; (source, name) identifies the table
    name: str
    relation: str  # the raw table it loads into: its identifier, else its name
    columns: tuple[str, ...]
    primary_key: tuple[str, ...]
    drift_policy: dict[str, str]
    column_types: dict[str, str]  # column -> what its text must parse as (meta.type)
    pattern: LandingPattern
    # `quarantine` (the default) sets a file that cannot be loaded aside and goes on with the
    # others; `halt` stops the run, for a source whose day must be complete.
    on_bad_file: str = "quarantine"
    event_time: str | None = None
    # The optional column whose `true` marks a delete of the row's key (meta.durable.delete_marker).
    delete_marker: str | None = None
    expected: Expected | None = None  # when each day's delivery is due (durable/overdue.py)
    format: str = "csv"
    yaml_file: str = field(default="", compare=False)  # where it is declared, for messages

    @property
    def key(self) -> tuple[str, str]:
        return self.source, self.name


def load_source_tables(project_dir: Path) -> list[SourceTable]:
    """Every landed table of the project, in the order its YAML files (sorted) declare them."""
    tables: list[SourceTable] = []
    for path in _source_yaml_files(project_dir):
        shown = path.relative_to(project_dir).as_posix()
        try:
            document = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
            raise BadDeclaration(f"{shown}: cannot be read as YAML: {_one_line(error)}") from None
        sources = document.get("sources") if isinstance(document, dict) else None
        for source in sources if isinstance(sources, list) else []:
            if isinstance(source, dict) and _enabled(source) and "durable" in _meta(source):
                tables += _Source(shown, source).tables()
    _check_unique(tables)
    return tables


def _source_yaml_files(project_dir: Path) -> Iterator[Path]:
    """YAML files under the model paths that mention durable (the others cannot land)."""
    for folder in _model_paths(project_dir):
        for root, folders, files in os.walk(folder):
            folders[:] = sorted(f for f in folders if not f.startswith("."))
            for name in sorted(files):
                path = Path(root, name)
                if (
                    name.endswith((".yml", ".yaml"))
                    and not path.is_symlink()
                    and "durable" in path.read_text(encoding="utf-8", errors="replace")
                ):
                    yield path


def _model_paths(project_dir: Path) -> list[Path]:
    project_file = project_dir / "dbt_project.yml"
    if not project_file.is_file():
        raise BadDeclaration(
            f"{project_dir}: no dbt_project.yml (run durable in a dbt project, or give "
            "--project-dir)"
        )
    try:
        project = yaml.safe_load(project_file.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as error:
        problem = _one_line(error)
        raise BadDeclaration(f"dbt_project.yml: cannot be read as YAML: {problem}") from None
    paths = project.get("model-paths") or project.get("source-paths") or ["models"]
    return [project_dir / str(path) for path in paths]


def _one_line(error: Exception) -> str:
    if isinstance(error, yaml.MarkedYAMLError) and error.problem_mark is not None:
        return f"{error.problem} (line {error.problem_mark.line + 1})"
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__


def _meta(node: dict[str, Any]) -> dict[str, Any]:
    """`meta`, or `config.meta` where dbt 1.10 moved it; both when both are given."""
    config = node.get("config") if isinstance(node.get("config"), dict) else {}
    merged: dict[str, Any] = {}
    for meta in (node.get("meta"), config.get("meta")):
        if isinstance(meta, dict):
            merged.update(meta)
    return merged


def _enabled(node: dict[str, Any]) -> bool:
    config = node.get("config") if isinstance(node.get("config"), dict) else {}
    return config.get("enabled", True) is not False


class _Source:
    """One source's `meta.durable` block and tables, checked as they are read."""

    def __init__(self, yaml_file: str, source: dict[str, Any]) -> None:
        self.yaml_file = yaml_file
        self.name = str(source.get("name", ""))
        self.source = source
        block = _meta(source)["durable"]
        if not isinstance(block, dict):
            self.fail(f"meta.durable must be a mapping of {', '.join(SOURCE_KEYS)}")
        unknown = sorted(str(key) for key in block if key not in SOURCE_KEYS)
        if unknown:
            self.fail(f"meta.durable: unknown key {unknown[0]!r} (known: {', '.join(SOURCE_KEYS)})")
        if "path" not in block:
            self.fail("meta.durable.path is missing, e.g. '{table}/dt={date}/*.csv'")
        self.block = block
        self.format = self.choice("meta.durable.format", block.get("format", "csv"), FORMATS)
        self.drift_policy = self.drift("meta.durable.drift_policy", block.get("drift_policy"))
        self.on_bad_file = self.choice(
            "meta.durable.on_bad_file", block.get("on_bad_file", "quarantine"), BAD_FILE_POLICIES
        )
        self.expected = self.expectation("meta.durable.expected", block.get("expected"))

    def fail(self, problem: str, table: str | None = None) -> NoReturn:
        where = f"source {self.name!r}" + (f", table {table!r}" if table else "")
        raise BadDeclaration(f"{self.yaml_file}: {where}: {problem}")

    def choice(self, what: str, value: object, allowed: tuple[str, ...], table: str = "") -> str:
        if value not in allowed:
            self.fail(f"{what} is {value!r}; expected {' or '.join(allowed)}", table or None)
        return str(value)

    def drift(self, what: str, value: object, table: str = "") -> dict[str, str]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.fail(f"{what} must map {', '.join(DRIFT_KINDS)} to an action", table or None)
        for kind, action in value.items():
            if kind not in DRIFT_KINDS:
                known = ", ".join(DRIFT_KINDS)
                self.fail(f"{what}: unknown kind {kind!r} (known: {known})", table or None)
            self.choice(f"{what}.{kind}", action, DRIFT_ACTIONS, table)
        return {str(kind): str(action) for kind, action in value.items()}

    def expectation(self, what: str, value: object, table: str = "") -> Expected | None:
        if value is None:
            return None
        try:
            return parse_expected(value)
        except ValueError as error:
            self.fail(f"{what} {error}", table or None)

    def table_block(self, meta: dict[str, Any], table: str) -> dict[str, Any]:
        """A table's own `meta.durable`: what it may set of its own."""
        block = meta.get("durable", {})
        if not isinstance(block, dict) or not set(block) <= set(TABLE_KEYS):
            self.fail(f"meta.durable of a table may only set {' and '.join(TABLE_KEYS)}", table)
        return block

    def delete_marker(self, block: dict[str, Any], table: str) -> str | None:
        if "delete_marker" not in block:
            return None
        marker = block["delete_marker"]
        if not isinstance(marker, str) or not PLAIN_COLUMN.fullmatch(marker):
            self.fail(f"meta.durable.delete_marker must be a column name, not {marker!r}", table)
        return marker

    def tables(self) -> list[SourceTable]:
        tables = self.source.get("tables") or []
        if not isinstance(tables, list):
            self.fail("tables must be a list")
        landed = [
            self.table(table)
            for table in tables
            if isinstance(table, dict)
            # The loader's own bookkeeping, should a project declare it: not a delivery.
            and not str(table.get("identifier") or "").startswith("_")
        ]
        if not landed:
            self.fail("meta.durable is set but the source declares no table to land")
        return landed

    def table(self, table: dict[str, Any]) -> SourceTable:
        name = str(table.get("name", ""))
        meta = _meta(table)
        columns = [c for c in table.get("columns") or [] if isinstance(c, dict) and c.get("name")]
        names = tuple(str(column["name"]) for column in columns)
        if not names:
            self.fail("declares no columns: the loader needs them to check a delivery", name)
        key = meta.get("primary_key", [])
        if not isinstance(key, list) or not all(isinstance(c, str) for c in key):
            self.fail(f"meta.primary_key must be a list of columns, not {key!r}", name)
        for column in key:
            if column not in names:
                self.fail(f"meta.primary_key names {column!r}, which is not a column", name)
        if len(set(key)) != len(key):
            self.fail(f"meta.primary_key names a column twice: {key!r}", name)
        event_time = meta.get("event_time", self.block.get("event_time"))
        if event_time is not None and event_time not in names:
            self.fail(f"event_time {event_time!r} is not a column", name)
        block = self.table_block(meta, name)
        delete_marker = self.delete_marker(block, name)
        if delete_marker is not None and delete_marker not in names:
            names = (*names, delete_marker)
        try:
            pattern = compile_pattern(self.block["path"], name)
        except PatternError as error:
            self.fail(f"meta.durable.path {error}", name)
        return SourceTable(
            source=self.name,
            name=name,
            columns=names,
            primary_key=tuple(key),
            drift_policy={
                **self.drift_policy,
                **self.drift("meta.drift_policy", meta.get("drift_policy"), name),
            },
            column_types={
                str(column["name"]): str(_meta(column)["type"])
                for column in columns
                if "type" in _meta(column)
            },
            on_bad_file=self.choice(
                "meta.on_bad_file",
                meta.get("on_bad_file", self.on_bad_file),
                BAD_FILE_POLICIES,
                name,
            ),
            relation=str(table.get("identifier") or name),
            pattern=pattern,
            event_time=event_time,
            delete_marker=delete_marker,
            expected=self.expectation("meta.durable.expected", block["expected"], name)
            if "expected" in block
            else self.expected,
            format=self.format,
            yaml_file=self.yaml_file,
        )


def _check_unique(tables: list[SourceTable]) -> None:
    """Two landed tables may not share a raw table, nor a landing path."""
    for attribute, what in (("relation", "raw table"), ("path", "landing path")):
        seen: dict[str, SourceTable] = {}
        for table in tables:
            value = table.relation if attribute == "relation" else _concrete_path(table)
            other = seen.setdefault(value, table)
            if other is not table:
                raise BadDeclaration(
                    f"{table.yaml_file}: source {table.source!r}, table {table.name!r}: "
                    f"same {what} ({value}) as source {other.source!r}, table {other.name!r} "
                    f"({other.yaml_file})"
                )


def _concrete_path(table: SourceTable) -> str:
    return table.pattern.declared.replace("{table}", table.name)
