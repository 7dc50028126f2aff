"""What `durable verify` asks of one side of a comparison, whatever the engine.

A side is production or the rebuild, read-only. Only aggregates cross between the two: a count
and a checksum per relation, then per bucket of keys, then the keys of the buckets that differ,
so a large relation with a few drifted rows is compared without its rows leaving the engine.
Each engine answers these in its own SQL (durable/engines/<engine>/compare.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

# Keys are spread over this many buckets; only the buckets whose digests differ are listed key
# by key, so the keys fetched are those of the drift, not the relation's.
BUCKETS = 4096
NULL_TEXT = "<null>"


@dataclass(frozen=True)
class Selection:
    """Which rows of a relation are compared, the same on both sides."""

    schema: str
    name: str
    columns: tuple[str, ...]  # compared, in this order on both sides
    key: tuple[str, ...] | None  # rows grouped by these for differing keys; None: whole only
    current_only: str | None = None  # a snapshot's validity column: its current rows only
    window: tuple[str, str, str] | None = None  # (column, first day, last day)
    key_bound: str | None = None  # sample: keys whose md5 is below this


Digest = tuple[int, int]  # rows, sum of row hashes


class ComparedSide(Protocol):
    def columns(self, schema: str, name: str) -> list[str] | None:
        """The relation's columns in order, or None when it does not exist here."""
        ...

    def digest(self, selection: Selection) -> Digest:
        """Rows and an order-independent checksum of the selected rows."""
        ...

    def bucket_digests(self, selection: Selection) -> dict[int, Digest]:
        """The digest of each bucket of keys."""
        ...

    def key_digests(self, selection: Selection, buckets: Sequence[int]) -> dict[str, Digest]:
        """The digest of each key of these buckets, the key as one text."""
        ...

    def lowest_key_hashes(self, selection: Selection, count: int) -> list[str]:
        """The `count` smallest md5s (hex) of the relation's keys."""
        ...
