"""What a run tells the person on call before it builds, each thing once: the landing zone's
held and reported paths, and the expected deliveries that have not landed in time.

The ledger remembers what was said, so a path or a late day is alerted on once, not every run.
"""

from __future__ import annotations

from collections.abc import Callable

from rich.console import Console
from rich.markup import escape

from durable.landing.zone import Finding
from durable.ledger import Ledger
from durable.overdue import OverdueDelivery, overdue_line

console = Console(stderr=True, soft_wrap=True)  # one line per message, whatever the width
ALERTS_EACH = 5  # overdue deliveries alerted on one by one in a run; the rest in one alert

Send = Callable[[dict[str, object]], None]


def report_findings(ledger: Ledger, findings: list[Finding], send: Send) -> None:
    """Warn of, and alert once on, each landing-zone path that is held or reported."""
    current = [(f.path, f.status, f.reason) for f in findings]
    for path, status, reason in ledger.new_findings(current):
        console.print(f"[yellow]{status}[/yellow] {escape(path)}: {escape(reason)}")
        send({"event": f"landing_file_{status}", "path": path, "status": status, "reason": reason})


def report_overdue(ledger: Ledger, overdue: list[OverdueDelivery], send: Send) -> None:
    """Warn of, and alert once on, each expected delivery that has not landed in time; the run
    goes on with what did land."""
    new = ledger.new_overdue((o.source, o.table, o.day) for o in overdue)
    fresh = [o for o in overdue if (o.source, o.table, o.day) in new]
    if fresh:
        console.print(f"[yellow]overdue[/yellow] {escape(overdue_line(fresh))}")
    for late in fresh[:ALERTS_EACH]:
        send(late.payload())
    if len(fresh) > ALERTS_EACH:  # a source that stopped long ago: one alert, not thousands
        rest = fresh[ALERTS_EACH:]
        send(
            {
                "event": "deliveries_overdue",
                "count": len(rest),
                "tables": sorted({f"{o.source}.{o.table}" for o in rest}),
                "first_delivery_date": str(min(o.day for o in rest)),
                "last_delivery_date": str(max(o.day for o in rest)),
            }
        )
