"""scripts/postgres.sh really starts a reachable PostgreSQL and really stops it."""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
SCRIPT = REPO_ROOT / "scripts" / "postgres.sh"
EXIT_CANNOT_INSTALL = 3

pytestmark = pytest.mark.postgres


def _run(action: str, state_dir: Path) -> subprocess.CompletedProcess[str]:
    # First start may apt-get install the server, hence the generous timeout.
    return subprocess.run(
        [str(SCRIPT), action, str(state_dir)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def _start(state_dir: Path) -> dict[str, str]:
    proc = _run("start", state_dir)
    if proc.returncode == EXIT_CANNOT_INSTALL:
        pytest.skip(f"PostgreSQL server cannot be installed here: {proc.stderr.strip()}")
    assert proc.returncode == 0, proc.stderr
    env = {}
    for line in proc.stdout.splitlines():
        assert line.startswith("export "), f"unexpected stdout line: {line!r}"
        key, _, value = line.removeprefix("export ").partition("=")
        env[key] = value
    return env


def _stop(state_dir: Path) -> None:
    proc = _run("stop", state_dir)
    assert proc.returncode == 0, proc.stderr


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", port)) == 0


def test_start_connect_stop(tmp_path: Path) -> None:
    import psycopg2  # the `postgres` extra; imported here so collection works without it

    state_dir = tmp_path / "pg"
    try:
        env = _start(state_dir)
        assert env == {
            "DURABLE_PG_HOST": "127.0.0.1",
            "DURABLE_PG_PORT": env["DURABLE_PG_PORT"],
            "DURABLE_PG_USER": "durable",
            "DURABLE_PG_PASSWORD": "",
            "DURABLE_PG_DATABASE": "durable",
        }
        assert (state_dir / "env").read_text().splitlines() == [
            f"export {k}={v}" for k, v in env.items()
        ]
        # A second start while running is a no-op that reports the same server.
        assert _start(state_dir) == env

        conn = psycopg2.connect(
            host=env["DURABLE_PG_HOST"],
            port=int(env["DURABLE_PG_PORT"]),
            user=env["DURABLE_PG_USER"],
            password=env["DURABLE_PG_PASSWORD"],
            dbname=env["DURABLE_PG_DATABASE"],
            connect_timeout=10,
        )
        try:
            with conn.cursor() as cur:
                cur.execute("select 1")
                assert cur.fetchone() == (1,)
        finally:
            conn.close()

        cluster_home = Path((state_dir / "pg_home").read_text().strip())
        assert cluster_home.is_dir()
    finally:
        _stop(state_dir)

    assert not _port_open(int(env["DURABLE_PG_PORT"]))
    assert not cluster_home.exists()
    assert not (state_dir / "env").exists()
    _stop(state_dir)  # stopping again is not an error
