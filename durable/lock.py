"""One run at a time: an OS file lock, released by the kernel even when a run is killed -9."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

from durable.errors import LockHeld


@contextmanager
def run_lock(path: Path, timeout: float) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(path), timeout=timeout)
    try:
        lock.acquire()
    except Timeout:
        raise LockHeld(
            f"another durable run holds {path}; waited {timeout:g} s (DURABLE_LOCK_TIMEOUT)"
        ) from None
    try:
        yield
    finally:
        lock.release()
