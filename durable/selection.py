"""What a window's `dbt build` selects: what its deliveries feed and what the project changed.

Most days deliver a few entities (orders and items); the models and tests of the others would
read the same rows and find the tables they already hold. So a window builds the descendants of
the sources it delivered, the nodes the project changed since the production manifest
(`state:modified+`: an edited model is rebuilt the day it ships, not on its source's next
delivery), and the sources' own tests, which must run every day: they are what notices a
delivery that did not come. Without a production manifest (the first run) it builds everything.

Only where the audit copy holds every relation of production (DuckDB's copy of the file): the
PostgreSQL and Spark audit schemas copy tables, not views, so their builds run the whole project.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from durable.landing import LoadReport
from durable.sources import SOURCE

# Written by every load, whatever it delivered: the file accounting and quarantine read them.
LEDGER_TABLES = ("landed_files", "rejected_rows")


def delivered_entities(load: LoadReport, start: date, end: date) -> list[str]:
    """Entities with a file delivered in [start, end], or loaded now (a late or re-sent file)."""
    return sorted(
        {
            f.entity
            for f in load.files
            if f.status in ("loaded", "replaced") or start <= f.delivery_date <= end
        }
    )


def build_selection(
    load: LoadReport, start: date | None, end: date | None, production_state: Path
) -> list[str]:
    """The `--select` (and `--state`) arguments of the window's build; none builds everything."""
    if start is None or end is None or not (production_state / "manifest.json").exists():
        return []
    feeds = [f"source:{SOURCE}.{name}+" for name in delivered_entities(load, start, end)]
    ledger = [f"source:{SOURCE}.{name}+" for name in LEDGER_TABLES]
    return [
        "--select",
        f"source:{SOURCE}",  # the source tests, e.g. that today's orders arrived
        *feeds,
        *ledger,
        "state:modified+",
        "--state",
        str(production_state),
    ]
