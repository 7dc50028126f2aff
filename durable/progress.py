"""Show dbt's progress: a live bar on a terminal, one line per node otherwise (plain or JSON)."""

from __future__ import annotations

import json
import sys

from dbt_common.events.base_types import EventMsg
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from durable.failpoints import node_finished

console = Console(stderr=True)


class NodeProgress:
    """A dbt callback. `mode`: auto (a bar on a terminal, else plain), plain, json or quiet."""

    def __init__(self, mode: str = "auto", label: str = "") -> None:
        self.mode = ("rich" if sys.stderr.isatty() else "plain") if mode == "auto" else mode
        self.label = label
        self.finished = 0
        self.bar: Progress | None = None
        self.task = None

    def __enter__(self) -> NodeProgress:
        if self.mode == "rich":
            self.bar = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=console,
                transient=True,
            )
            self.bar.start()
            self.task = self.bar.add_task(self.label, total=None)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()

    def __call__(self, event: EventMsg) -> None:
        name = event.info.name
        if name != "NodeFinished":
            return
        self.finished += 1
        node_finished(self.finished)
        info = event.data.node_info
        status = info.node_status
        if self.mode == "rich" and self.bar is not None:
            self.bar.update(self.task, advance=1, description=f"{self.label} {info.node_name}")
        elif self.mode == "plain":
            console.print(f"{self.label} {status:<8} {info.unique_id}", highlight=False)
        elif self.mode == "json":
            print(json.dumps({"window": self.label, "node": info.unique_id, "status": status}))
