"""The DuckDB files the benchmark's steps run on: their settings, their copies, the page cache."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

from durable.config import Settings
from durable.engines.duckdb.prepared import prepare, tidy

PROJECT_DIR = Path(__file__).resolve().parents[2]


def settings_for(workdir: Path, database: Path, landing: Path) -> Settings:
    return Settings(
        project_dir=PROJECT_DIR,
        landing_dir=landing,
        duckdb_path=database,
        state_dir=workdir / "state",
        prod_state_dir=workdir / "prod-state",
    )


def remove_database(path: Path) -> None:
    """The file and its write-ahead log: a WAL left by a failed step would be replayed into the
    next file of that name."""
    for leftover in (path, path.with_name(path.name + ".wal")):
        leftover.unlink(missing_ok=True)


def copy_database(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_database(target)
    shutil.copyfile(source, target)  # measure() writes it back before the step starts


def evict_from_page_cache(path: Path) -> None:
    if path.exists():
        with open(path, "rb") as written:
            os.posix_fadvise(written.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)


def prepare_audit_copy(database: Path) -> tuple[float, Path] | None:
    """What the run before would have left: the next audit copy, made after its publish; its
    time and path, or None where the audit copy is a reflink (nothing is prepared there)."""
    tidy(database)  # the copy the last step's run prepared: stale, its file was copied over
    began = time.perf_counter()
    prepared = prepare(database)
    return None if prepared is None else (time.perf_counter() - began, prepared)
