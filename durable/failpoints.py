"""Named places where tests make the runner die, the way a power cut or kill -9 would.

Set DURABLE_FAILPOINT to a name (e.g. `publish:before-rename`) and the process kills itself with
SIGKILL on reaching it; set DURABLE_KILL_AFTER_NODES=N to die once dbt has finished N nodes. Both
are inert unless set.
"""

from __future__ import annotations

import os
import signal


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def failpoint(name: str) -> None:
    if os.environ.get("DURABLE_FAILPOINT") == name:
        _die()


def node_finished(count: int) -> None:
    limit = os.environ.get("DURABLE_KILL_AFTER_NODES")
    if limit and count >= int(limit):
        _die()
