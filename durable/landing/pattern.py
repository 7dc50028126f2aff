"""Where a landed table's files arrive: its source's `meta.durable.path`, compiled per table.

A pattern is a path relative to the landing zone, one `/`-separated segment per folder level and
one for the file name, e.g. `{table}/dt={date}/*.csv`. In a segment, `{table}` is the table's name,
`{date}` the delivery date as YYYY-MM-DD (exactly once in the pattern: every delivery has a day),
`*` any run of letters, digits, `.`, `_` and `-`, and anything else is literal. The pattern is
matched one name at a time while the landing zone is walked (durable/landing/zone.py), never
handed to a glob, so a folder that matches no pattern is reported without being read.

Deliberately narrow, because a delivered name must never be mistaken for another file: a name
that a leading `*` matches starts with a letter or a digit (no hidden or temporary files), and
nothing matches `/`. File names match regardless of case (`part-0001.CSV` loads), and a CSV file
may also arrive gzip-compressed as `<name>.gz`; folder names match exactly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

TOKEN = re.compile(r"\{([^{}]*)\}|\*|[^{}*]+|[{}]")
LITERAL = re.compile(r"[A-Za-z0-9._=-]+")
DATE = r"(?P<date>\d{4}-\d{2}-\d{2})"
NAME_START = "[A-Za-z0-9][A-Za-z0-9._-]*"  # a `*` opening a segment
NAME_PART = "[A-Za-z0-9._-]*"  # a `*` after a literal or a placeholder
TABLE_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]*")


class PatternError(ValueError):
    """A landing path pattern that cannot be used; the message follows the word `path`."""


@dataclass(frozen=True)
class Segment:
    """One level of a pattern, for one table."""

    regex: re.Pattern[str]
    has_table: bool  # names the table: a match tells which table a path belongs to
    has_date: bool
    is_table: bool  # the whole segment is `{table}`: a folder per table

    def match(self, name: str) -> tuple[bool, date | None]:
        """Whether `name` fits this level, and the date it holds (None without `{date}`); a
        name holding an impossible date (2018-02-30) does not fit."""
        found = self.regex.fullmatch(name)
        if found is None:
            return False, None
        if not self.has_date:
            return True, None
        try:
            return True, date.fromisoformat(found["date"])
        except ValueError:
            return False, None

    def accepts(self, name: str) -> bool:
        return self.match(name)[0]


@dataclass(frozen=True)
class LandingPattern:
    declared: str  # as the YAML says it, before `{table}` is filled in
    segments: tuple[Segment, ...]
    gzip_suffix: bool  # a `.gz` may follow the file name

    def describe(self) -> str:
        """The pattern for a person: `<table>/dt=YYYY-MM-DD/<name>.csv or .csv.gz`."""
        shown = (
            self.declared.replace("{table}", "<table>")
            .replace("{date}", "YYYY-MM-DD")
            .replace("*", "<name>")
        )
        if not self.gzip_suffix:
            return shown
        name = shown.rsplit("/", 1)[-1]
        return f"{shown} or .{name.rsplit('.', 1)[-1]}.gz" if "." in name else f"{shown}[.gz]"


def compile_pattern(declared: str, table: str, gzip_suffix: bool = True) -> LandingPattern:
    """The pattern of one table; raises PatternError naming what is wrong with it."""
    if not isinstance(declared, str) or not declared:
        raise PatternError("must be a non-empty text, e.g. '{table}/dt={date}/*.csv'")
    if declared.startswith("/") or "\\" in declared:
        raise PatternError(f"{declared!r} must be relative to the landing zone, with '/'")
    texts = declared.split("/")
    if any(text in ("", ".", "..") for text in texts):
        raise PatternError(f"{declared!r} has an empty, '.' or '..' segment")
    if declared.count("{date}") != 1:
        raise PatternError(f"{declared!r} must hold {{date}} exactly once")
    if "{table}" in declared and not TABLE_NAME.fullmatch(table):
        raise PatternError(f"{declared!r} cannot hold the table name {table!r}")
    last = len(texts) - 1
    segments = tuple(
        _segment(declared, text, table, file=i == last, gzip_suffix=gzip_suffix)
        for i, text in enumerate(texts)
    )
    return LandingPattern(declared, segments, gzip_suffix)


def _segment(declared: str, text: str, table: str, *, file: bool, gzip_suffix: bool) -> Segment:
    parts: list[str] = []
    for token in _tokens(text):
        if token == "{table}":
            parts.append(re.escape(table))
        elif token == "{date}":
            parts.append(DATE)
        elif token == "*":
            parts.append(NAME_PART if parts else NAME_START)
        elif token.startswith("{") or token in ("{", "}"):
            raise PatternError(
                f"{declared!r}: unknown placeholder {token!r} (known: {{table}}, {{date}})"
            )
        elif LITERAL.fullmatch(token):
            parts.append(re.escape(token))
        else:
            raise PatternError(
                f"{declared!r}: {token!r} is not allowed (letters, digits, '.', '_', '-', "
                "'=', '*', {table} and {date})"
            )
    if file and gzip_suffix and not text.lower().endswith(".gz"):
        parts.append(r"(?:\.gz)?")
    regex = re.compile("".join(parts), re.IGNORECASE if file else 0)
    return Segment(regex, "{table}" in text, "{date}" in text, text == "{table}")


def _tokens(text: str) -> list[str]:
    return [match.group(0) for match in TOKEN.finditer(text)]
