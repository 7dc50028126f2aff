"""What the page says about the machine, and about the filesystem the warehouse lives on."""

from __future__ import annotations

import os
import platform
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import psutil


def _mount(path: Path) -> tuple[str, str]:
    """The filesystem type and device holding `path`, from the longest matching mount point."""
    path, mounts = path.resolve(), Path("/proc/mounts")
    best, found = "", ("?", "?")
    for line in mounts.read_text().splitlines() if mounts.exists() else []:
        device, mount, fstype, *_ = line.split()
        if (path == Path(mount) or Path(mount) in path.parents) and len(mount) > len(best):
            best, found = mount, (fstype, device)
    return found


def filesystem(path: Path) -> str:
    """The filesystem holding `path` and its device, for the report."""
    fstype, device = _mount(path)
    return "?" if fstype == "?" else f"{fstype} on {device}"


def loop_device_caching(path: Path) -> str | None:
    """For a warehouse on a loop device (a filesystem image, e.g. XFS for reflinks), whether the
    device reads its image directly. Without direct I/O, the image file's own page cache keeps
    what `evict_from_page_cache` drops: a small history stays warm from run to run while a
    large one is partly read from disk, and the chart compares the two unevenly."""
    device = _mount(path)[1]
    loop = Path("/sys/block") / Path(device).name / "loop"
    if not device.startswith("/dev/loop") or not loop.is_dir():
        return None
    backing = (loop / "backing_file").read_text().strip()
    if (loop / "dio").read_text().strip() == "1":
        return f"loop device over {backing}, direct I/O: every step reads its file from the disk"
    return (
        f"loop device over {backing}, buffered: the image's page cache may keep the file warm"
        " (small histories more than large ones); `losetup --direct-io=on` avoids it"
    )


def machine(memory_limit: str, threads: int, rundir: Path) -> dict[str, Any]:
    versions = {}
    for package in ("dbt-core", "dbt-duckdb", "duckdb"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "?"
    return {
        "cpus": os.cpu_count(),
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
        **versions,
        "duckdb memory_limit": memory_limit,
        "duckdb threads": threads,
        "warehouse filesystem": f"{filesystem(rundir)}, {rundir}",
        **({"warehouse storage": loop} if (loop := loop_device_caching(rundir)) else {}),
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }


def load_average() -> str:
    """The 1, 5 and 15 minute load averages: how busy the machine was around the run."""
    return " / ".join(f"{x:.1f}" for x in os.getloadavg())
