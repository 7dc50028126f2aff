"""One relation of `durable verify`: which rows to compare, then counts, checksums and keys.

Cheap first: a count and a checksum of each side. Only a relation that differs is looked at key
by key (through buckets of keys, so only the keys near the drift are listed), and at most
`show` of its differing keys are kept.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from durable.engines.comparison import ComparedSide, Selection
from durable.relations import Relation

MD5_SPACE = 16**32  # md5 digests as 32 hex digits: a fraction of keys is a bound in this space


@dataclass(frozen=True)
class Scope:
    """What is compared: the whole history, a window of event time, a sample of keys."""

    start: date | None = None
    end: date | None = None
    sample: float | int | None = None  # a fraction of the keys, or a number of keys
    show: int = 10  # differing keys kept per relation

    @property
    def label(self) -> str:
        parts = []
        if self.start and self.end:
            parts.append(
                f"window {self.start}"
                if self.start == self.end
                else f"window {self.start}..{self.end}"
            )
        if isinstance(self.sample, float):
            parts.append(f"sample {self.sample:.4g} of keys")
        elif self.sample:
            parts.append(f"sample {self.sample} keys")
        return ", ".join(parts) or "whole history"


@dataclass
class RelationResult:
    relation: str
    key: tuple[str, ...] | None
    rows_production: int | None  # None: the relation is missing there
    rows_rebuilt: int | None
    checksum_match: bool
    differing_keys: list[str] = field(default_factory=list)  # at most Scope.show
    differing_key_count: int = 0
    note: str = ""  # what narrowed or widened the comparison, or why it could not key

    @property
    def drifted(self) -> bool:
        return not self.checksum_match


def compare_relation(
    relation: Relation, production: ComparedSide, rebuilt: ComparedSide, scope: Scope
) -> RelationResult:
    ours = production.columns(relation.schema, relation.name)
    theirs = rebuilt.columns(relation.schema, relation.name)
    if ours is None or theirs is None:
        where = "production" if ours is None else "the rebuild"
        return RelationResult(
            relation.label, relation.key, None, None, False, note=f"missing in {where}"
        )
    kept = [c for c in ours if c.lower() not in relation.excluded]
    kept_rebuilt = [c for c in theirs if c.lower() not in relation.excluded]
    compared = [c for c in kept if c in kept_rebuilt]
    changed = sorted(set(kept) ^ set(kept_rebuilt))  # added, dropped or renamed: drift itself
    notes = []
    if changed:
        notes.append(f"columns differ: {', '.join(changed)}")
    key = relation.key if relation.key and all(k in compared for k in relation.key) else None
    window = None
    if scope.start and scope.end:
        if relation.window_column in compared:
            window = (relation.window_column, scope.start.isoformat(), scope.end.isoformat())
        else:
            notes.append("whole: no event-time column")
    selection = Selection(
        relation.schema,
        relation.name,
        tuple(compared),
        key,
        current_only=relation.current_only if relation.current_only in ours else None,
        window=window,
    )
    if scope.sample:
        if key:
            selection = _sampled(selection, scope.sample, production, rebuilt)
        else:
            notes.append("whole: no key to sample")
    ours_digest, theirs_digest = production.digest(selection), rebuilt.digest(selection)
    result = RelationResult(
        relation.label,
        key,
        ours_digest[0],
        theirs_digest[0],
        ours_digest == theirs_digest and not changed,
        note="; ".join(notes),
    )
    if result.drifted and key:
        differing = _differing_keys(selection, production, rebuilt)
        result.differing_key_count = len(differing)
        result.differing_keys = differing[: scope.show]
    return result


def _sampled(
    selection: Selection, sample: float | int, production: ComparedSide, rebuilt: ComparedSide
) -> Selection:
    """The keys whose md5 falls below a bound: a fraction of the md5 space, or the bound that
    takes the N lowest keys of both sides. The same keys on every check, and on both sides."""
    if isinstance(sample, float):
        bound = f"{min(int(sample * MD5_SPACE), MD5_SPACE - 1):032x}"
    else:
        lowest = sorted(
            {
                *production.lowest_key_hashes(selection, sample),
                *rebuilt.lowest_key_hashes(selection, sample),
            }
        )[:sample]
        if not lowest:
            return selection  # empty on both sides: nothing to sample
        bound = lowest[-1]
    return Selection(
        selection.schema,
        selection.name,
        selection.columns,
        selection.key,
        current_only=selection.current_only,
        window=selection.window,
        key_bound=bound,
    )


def _differing_keys(
    selection: Selection, production: ComparedSide, rebuilt: ComparedSide
) -> list[str]:
    ours, theirs = production.bucket_digests(selection), rebuilt.bucket_digests(selection)
    buckets = sorted(b for b in {*ours, *theirs} if ours.get(b) != theirs.get(b))
    ours_keys = production.key_digests(selection, buckets)
    theirs_keys = rebuilt.key_digests(selection, buckets)
    return sorted(k for k in {*ours_keys, *theirs_keys} if ours_keys.get(k) != theirs_keys.get(k))
