"""The audit copy: a reflink where the filesystem shares extents, a byte copy elsewhere.

Either way the copy must hold the same bytes and be independent of its source: a run writes the
audit copy while production must stay exactly as it was.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from durable.engines.duckdb import clone
from durable.engines.duckdb.clone import clone_file


def _write(path: Path, size: int) -> bytes:
    data = os.urandom(size)
    path.write_bytes(data)
    return data


def test_the_copy_holds_the_same_bytes_and_writing_it_leaves_the_source_alone(tmp_path: Path):
    source, target = tmp_path / "prod.duckdb", tmp_path / "audit.duckdb"
    original = _write(source, 3 * 1024 * 1024 + 17)

    method = clone_file(source, target)  # "reflink" on XFS/Btrfs, "copy" on ext4 and tmpfs

    assert method in ("reflink", "copy")
    assert target.read_bytes() == original
    with open(target, "r+b") as audit:  # what a run does to its audit copy
        audit.seek(1024 * 1024)
        audit.write(b"\xff" * 4096)
    assert source.read_bytes() == original


@pytest.mark.skipif(not hasattr(os, "uname") or os.uname().sysname != "Linux", reason="FICLONE")
def test_a_filesystem_without_reflinks_falls_back_to_a_byte_copy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    import fcntl

    def no_reflinks(fd: int, request: int, arg: int) -> None:
        assert request == clone.FICLONE
        raise OSError(errno.EOPNOTSUPP, "Operation not supported")

    monkeypatch.setattr(fcntl, "ioctl", no_reflinks)
    source, target = tmp_path / "prod.duckdb", tmp_path / "audit.duckdb"
    original = _write(source, 100_000)

    assert clone_file(source, target) == "copy"
    assert target.read_bytes() == original


@pytest.mark.skipif(not hasattr(os, "uname") or os.uname().sysname != "Linux", reason="FICLONE")
def test_a_real_io_error_is_raised_not_papered_over_by_a_byte_copy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    import fcntl

    def disk_full(fd: int, request: int, arg: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(fcntl, "ioctl", disk_full)
    source = tmp_path / "prod.duckdb"
    _write(source, 1000)

    with pytest.raises(OSError) as raised:
        clone_file(source, tmp_path / "audit.duckdb")
    assert raised.value.errno == errno.ENOSPC
