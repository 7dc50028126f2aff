"""What a publish leaves to do, done after the run: the next audit copy, deleting what it replaced.

Without reflinks the audit copy reads and writes the whole warehouse file (seconds per GiB), and
a run used to pay for it before its build could start. Right after a publish, production holds
what the next run will copy, so a process of its own copies it then, off any run's path. The copy
is made in a private folder and renamed, once complete, to a folder named after production's
identity (inode, size, modification and change times). The next run takes it only if production
still has that identity and no write-ahead log: anything that wrote production since (a plain
dbt build, a rollback's rename, a writer that died) changes one of them, and the run copies
production itself as before. So a prepared copy is always byte for byte the production the run
would have copied; it costs one more warehouse file on disk.

The file a publish replaces is not deleted by the publish either: freeing a file of several GiB
takes ext4 most of a second, so the publish gives it a second name in `_trash/` before its
rename, and the same process deletes it (where nothing is prepared, the run does, once it has
published).

The copy needs no DuckDB connection (it must never hold a lock a reader or writer waits on):
production's identity, unchanged from before the copy to after it with no log beside it, proves
nothing wrote it meanwhile.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

from durable.engines.duckdb.clone import clone_file

PARTIAL = ".partial-"
# The preparers this process started: a long-lived caller (a test session, a scheduler calling
# Runner.run in process) reaps those that finished the next time it starts one.
_started: list[subprocess.Popen[bytes]] = []


def prepared_dir(production: Path) -> Path:
    return production.parent / "_next"


def trash_dir(production: Path) -> Path:
    return production.parent / "_trash"


def to_trash(production: Path, path: Path) -> None:
    """Set `path` aside to be deleted later: a rename, whatever its size."""
    trash = trash_dir(production)
    trash.mkdir(exist_ok=True)
    os.replace(path, trash / path.name)


def empty_trash(production: Path) -> None:
    folder = trash_dir(production)
    if folder.is_dir():
        for entry in folder.iterdir():
            shutil.rmtree(entry, ignore_errors=True)


def identity(production: Path) -> str | None:
    """Production's inode, size and times, or None when it has a log (or is gone)."""
    if production.with_name(production.name + ".wal").exists():
        return None
    try:
        status = production.stat()
    except FileNotFoundError:
        return None
    return f"{status.st_ino}-{status.st_size}-{status.st_mtime_ns}-{status.st_ctime_ns}"


def prepare(production: Path) -> Path | None:
    """Copy production into `_next/<identity>/`; None if it changed while it was copied."""
    before = identity(production)
    if before is None:
        return None
    folder = prepared_dir(production)
    partial = folder / f"{PARTIAL}{os.getpid()}"
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    try:
        copy = partial / production.name
        if clone_file(production, copy) == "reflink":
            return None  # the run's own copy costs nothing here: nothing to prepare
        with open(copy, "rb") as written:
            os.fsync(written.fileno())
        if identity(production) != before:
            return None
        ready = folder / before
        shutil.rmtree(ready, ignore_errors=True)
        os.replace(partial, ready)
        return ready / production.name
    finally:
        shutil.rmtree(partial, ignore_errors=True)


def take(production: Path, audit: Path) -> bool:
    """Move the copy prepared from production as it is now to `audit`, if there is one. Stale
    copies are left to tidy(), after the run: deleting a warehouse file takes ext4 a second."""
    current = identity(production)
    if current is None:
        return False
    ready = prepared_dir(production) / current
    try:
        os.replace(ready / production.name, audit)
    except FileNotFoundError:  # none, or a preparer of the same state is replacing it
        return False
    with contextlib.suppress(OSError):
        ready.rmdir()
    return True


def tidy(production: Path) -> None:
    """Delete what waits in the trash and every prepared copy production no longer matches."""
    empty_trash(production)
    folder = prepared_dir(production)
    if not folder.is_dir():
        return
    current = identity(production)
    for entry in folder.iterdir():
        if entry.name.startswith(PARTIAL) and _alive(entry.name.removeprefix(PARTIAL)):
            continue  # still being copied
        if entry.name != current:
            shutil.rmtree(entry, ignore_errors=True)


def _alive(pid: str) -> bool:
    try:
        os.kill(int(pid), 0)
    except (ValueError, ProcessLookupError):
        return False
    except PermissionError:
        pass  # another user's process holds that pid: alive all the same
    return True


def start_preparing(production: Path) -> None:
    """Copy production in a process of its own, which outlives the run that started it."""
    _started[:] = [process for process in _started if process.poll() is None]  # no zombies
    # Should it fail to start, the next run copies production itself, as it would without it.
    with contextlib.suppress(OSError):
        process = subprocess.Popen(  # noqa: S603 - our own code, with a path as its only argument
            [sys.executable, "-c", f"import sys; from {__name__} import main; main(sys.argv[1])"]
            + [str(production)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # neither the run's end nor a Ctrl-C in its terminal stops it
        )
        _started.append(process)


def main(production: str) -> None:
    try:
        tidy(Path(production))  # first: it frees the disk the copy is about to fill
        prepare(Path(production))
    except OSError:
        sys.exit(1)  # a folder removed under it, a full disk: the next run copies for itself
