"""`durable quarantine`: what production holds back, and a file's bad rows to hand back.

It reads the package's two models in production, never the raw files again: `quarantined_rows`
(each rejected or held row, with its reason) and `delivery_accounting` (each file's rows
delivered, loaded, quarantined, held), so its numbers are the accounting's. An export joins a
file's quarantined rows to what was delivered (the raw table's text, or the unreadable line),
so the team that sent it can fix the rows and send the file again. After each publish the ledger
keeps how many rows each file has held back, so a re-delivery shows what it released.
"""

from __future__ import annotations

import csv
from dataclasses import asdict, dataclass
from pathlib import Path

from durable.config import Settings
from durable.engines import publisher_for
from durable.engines.interface import Publisher
from durable.errors import BadInput
from durable.ledger import Ledger
from durable.sources import load_source_tables

SCHEMA_VERSION = 1
EXPORT_FIRST = ("row_number", "status", "reason", "awaited_key")


@dataclass(frozen=True)
class QuarantineGroup:
    entity: str
    source_file: str
    delivery_date: str
    status: str  # rejected | held
    reason: str
    rows: int


@dataclass
class QuarantineReport:
    groups: list[QuarantineGroup]
    accounted_quarantined: int  # delivery_accounting's sums over the same files
    accounted_held: int

    def totals(self) -> dict[str, int]:
        rejected = sum(g.rows for g in self.groups if g.status == "rejected")
        held = sum(g.rows for g in self.groups if g.status == "held")
        return {"rejected": rejected, "held": held}

    def as_json(self) -> dict[str, object]:
        return {
            "schema_version": SCHEMA_VERSION,
            "groups": [asdict(group) for group in self.groups],
            "totals": self.totals(),
            "delivery_accounting": {
                "rows_quarantined": self.accounted_quarantined,
                "rows_held": self.accounted_held,
            },
        }


def quarantine(settings: Settings, source_file: str | None = None) -> QuarantineReport:
    """Quarantined rows by source, file, day, status and reason, with counts."""
    publisher = publisher_for(settings)
    schema = settings.schema
    where = f" where _source_file = {publisher.literal(source_file)}" if source_file else ""
    rows = publisher.read_production(
        "select entity, _source_file, _delivery_date, quarantine_status, reason, count(*) "
        f"from {schema}.quarantined_rows{where} "
        "group by entity, _source_file, _delivery_date, quarantine_status, reason "
        "order by _delivery_date, _source_file, quarantine_status, reason"
    )
    groups = [
        QuarantineGroup(str(entity), str(file), str(day), str(status), str(reason), int(n))
        for entity, file, day, status, reason, n in rows
    ]
    file_filter = f" where source_file = {publisher.literal(source_file)}" if source_file else ""
    ((quarantined, held),) = publisher.read_production(
        "select coalesce(sum(rows_quarantined), 0), coalesce(sum(rows_held), 0) "
        f"from {schema}.delivery_accounting{file_filter}"
    )
    return QuarantineReport(groups, int(quarantined), int(held))


def releases(settings: Settings, limit: int = 50) -> list[dict[str, object]]:
    """What re-deliveries (and late keys) released, newest first, from the ledger: the rows a
    file had held back before a publish and no longer had after it."""
    ledger = Ledger(settings.ledger_path)
    try:
        rows = ledger.releases(limit)
    finally:
        ledger.close()
    return [
        {
            "run_id": run,
            "window": start if start == end else f"{start}..{end}",
            "source_file": file,
            "rows": n,
            "released_at": at,
        }
        for run, start, end, file, n, at in rows
    ]


def held_by_file(publisher: Publisher, schema: str) -> dict[str, int]:
    """Rows production holds back (quarantined, a whole bad file's included, or held), per
    delivered file: delivery_accounting's numbers."""
    rows = publisher.read_production(
        f"select source_file, rows_quarantined + rows_held from {schema}.delivery_accounting "
        "where rows_quarantined + rows_held > 0"
    )
    return {str(file): int(n) for file, n in rows}


def export(settings: Settings, source_file: str, path: Path) -> int:
    """Write the file's quarantined rows, as delivered, with row numbers and reasons, to a CSV;
    return how many."""
    publisher = publisher_for(settings)
    entity = _entity_of(publisher, settings, source_file)
    table = next(
        (t for t in load_source_tables(settings.project_dir) if t.name == entity),
        None,
    )
    if table is None:
        raise BadInput(f"{source_file}: its table {entity!r} is not a landed table of the project")
    delivered = ", ".join(f"delivered.{column}" for column in table.columns)
    raw = settings.raw_schema
    rows = publisher.read_production(
        f"select held._row_number, held.quarantine_status, held.reason, held.awaited_key, "
        f"{delivered}, unreadable.raw_line "
        f"from {settings.schema}.quarantined_rows as held "
        f"left join {raw}.{table.relation} as delivered "
        "on delivered._source_file = held._source_file "
        "and delivered._row_number = held._row_number "
        f"left join {raw}._rejected_rows as unreadable "
        "on unreadable._source_file = held._source_file "
        "and unreadable._row_number = held._row_number "
        f"where held._source_file = {publisher.literal(source_file)} "
        "order by held._row_number"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow([*EXPORT_FIRST, *table.columns, "unreadable_line"])
        for row in rows:
            writer.writerow(["" if value is None else value for value in row])
    return len(rows)


def _entity_of(publisher: Publisher, settings: Settings, source_file: str) -> str:
    found = publisher.read_production(
        f"select entity from {settings.schema}.delivery_accounting "
        f"where source_file = {publisher.literal(source_file)}"
    )
    if not found:
        raise BadInput(f"production holds no delivery {source_file!r} (see durable quarantine)")
    return str(found[0][0])
