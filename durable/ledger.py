"""The run ledger: what ran, on which window, how it ended. It outlives crashes.

SQLite in WAL mode, committed at every state change, so a run killed at any point leaves rows
that say `running`. The next run holds the run lock, so any `running` row it finds belongs to a
dead process: it is settled as `crashed` (or `published`, when production already carries the
run's publication, which happens if the crash came after the atomic publish).

A window row is a delivery window or a rollout of the code (durable/rollout.py): `kind` says
which and why (`deliveries`, `code change`, `full refresh`), `rebuilt` what the code changed or
the rollout named, `code_fingerprint` the code it built, which production runs once published.
Each day of a delivery window has a row of its own; the days of a catch-up built together share
their attempts, tests and rows changed, and `batch` names their window.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

SCHEMA = """
create table if not exists runs (
    run_id text primary key,
    command text not null,
    pid integer not null,
    host text not null,
    started_at text not null,
    finished_at text,
    state text not null,          -- running | succeeded | failed | crashed
    exit_code integer,
    failure text,
    transient_retries integer not null default 0  -- retried locks and I/O faults, any step
);
create table if not exists windows (
    run_id text not null references runs (run_id),
    window_start text not null,
    window_end text not null,
    started_at text not null,
    finished_at text,
    state text not null,          -- running | published | failed | crashed | rolled back
    attempts integer not null default 0,
    rows_changed text,            -- json: model -> rows the run inserted or changed
    tests_passed integer,
    tests_failed integer,
    failure text,
    audit_path text,
    kind text not null default 'deliveries',  -- deliveries | code change | full refresh | rollback
    rebuilt text,                 -- json: models the code changed or the rollout named
    code_fingerprint text,        -- of the code built (durable/selection.py)
    batch text,                   -- S..E: the days built and published with this one
    freshness text,               -- json: source.table -> dbt source freshness status
    primary key (run_id, window_start, window_end)
);
create table if not exists overdue_alerts (  -- expected deliveries already alerted on as overdue
    source text not null,
    table_name text not null,
    delivery_date text not null,
    alerted_at text not null,
    primary key (source, table_name, delivery_date)
);
create table if not exists quarantine_latest (  -- rows each file had held back at the last publish
    source_file text primary key,
    rows integer not null
);
create table if not exists quarantine_releases (  -- rows a publish let through that were held
    run_id text not null,
    window_start text not null,
    window_end text not null,
    source_file text not null,
    rows integer not null,
    released_at text not null
);
create table if not exists landing_findings (  -- held and reported paths already alerted on
    path text primary key,
    status text not null,
    reason text not null,
    first_seen_at text not null
);
"""
# `durable verify` results: one row per check of production against a rebuild from the landing
# zone (durable/verify.py); `durable status` shows the last.
VERIFY_SCHEMA = """
create table if not exists verifications (
    verify_id text primary key,
    scope text not null,          -- whole history | window S..E | sample ...
    started_at text not null,
    finished_at text not null,
    state text not null,          -- clean | drift | failed
    exit_code integer not null,
    relations_checked integer not null,
    relations_drifted text,       -- json: relation -> {rows, differing keys (at most N shown)}
    failure text
);
"""


# Columns later versions added to `windows`; a ledger from before gets them on opening.
ADDED_COLUMNS = {
    "kind": "text not null default 'deliveries'",
    "rebuilt": "text",
    "code_fingerprint": "text",
    "batch": "text",
    "freshness": "text",
}
JSON_COLUMNS = ("rows_changed", "rebuilt", "freshness")


def _days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=offset) for offset in range((end - start).days + 1)]


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


@dataclass(frozen=True)
class WindowRow:
    run_id: str
    window_start: date
    window_end: date
    state: str
    attempts: int
    started_at: str
    finished_at: str | None
    rows_changed: dict[str, int] | None
    tests_passed: int | None
    tests_failed: int | None
    failure: str | None
    audit_path: str | None
    kind: str = "deliveries"
    rebuilt: list[str] | None = None
    code_fingerprint: str | None = None
    batch: str | None = None  # S..E: the window the day was built and published in
    freshness: dict[str, str] | None = None  # source.table -> pass | warn | error | unknown


class Ledger:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(path, isolation_level=None, timeout=30)
        self.db.execute("pragma journal_mode = wal")
        self.db.execute("pragma synchronous = full")
        self.db.executescript(SCHEMA)
        present = {row[1] for row in self.db.execute("pragma table_info(windows)")}
        for column, declaration in ADDED_COLUMNS.items():
            if column not in present:
                self.db.execute(f"alter table windows add column {column} {declaration}")
        self.db.executescript(VERIFY_SCHEMA)

    def close(self) -> None:
        self.db.close()

    def start_run(self, run_id: str, command: str) -> None:
        self.db.execute(
            "insert into runs (run_id, command, pid, host, started_at, state) "
            "values (?, ?, ?, ?, ?, 'running')",
            (run_id, command, os.getpid(), socket.gethostname(), now()),
        )

    def finish_run(
        self, run_id: str, state: str, exit_code: int, failure: str | None, retries: int = 0
    ) -> None:
        self.db.execute(
            "update runs set finished_at = ?, state = ?, exit_code = ?, failure = ?, "
            "transient_retries = ? where run_id = ?",
            (now(), state, exit_code, failure, retries, run_id),
        )

    def start_window(self, run_id: str, start: date, end: date, kind: str = "deliveries") -> None:
        """A row for each day of the window (a day retried alone after its batch failed takes
        over the batch's row)."""
        batch = None if start == end else f"{start}..{end}"
        started = now()
        self.db.executemany(
            "insert or replace into windows (run_id, window_start, window_end, started_at, "
            "state, kind, "
            "batch) values (?, ?, ?, ?, 'running', ?, ?)",
            [
                (run_id, day.isoformat(), day.isoformat(), started, kind, batch)
                for day in _days(start, end)
            ],
        )

    def update_window(self, run_id: str, start: date, end: date, **fields: object) -> None:
        """Set fields on the rows of the window's days."""
        for name in JSON_COLUMNS:
            if fields.get(name) is not None:
                fields[name] = json.dumps(fields[name], sort_keys=True)
        if fields.get("state") in ("published", "failed", "crashed"):
            fields.setdefault("finished_at", now())
        assignments = ", ".join(f"{name} = ?" for name in fields)
        self.db.execute(
            f"update windows set {assignments} "
            "where run_id = ? and window_start >= ? and window_end <= ?",
            (*fields.values(), run_id, start.isoformat(), end.isoformat()),
        )

    def mark_windows(self, run_ids: Iterable[str], state: str) -> list[tuple[date, date]]:
        """Set the state of the published windows of these runs (a rollback undid them);
        return those windows."""
        marked = []
        for run_id in run_ids:
            rows = self.db.execute(
                "select window_start, window_end from windows "
                "where run_id = ? and state = 'published'",
                (run_id,),
            ).fetchall()
            self.db.execute(
                "update windows set state = ? where run_id = ? and state = 'published'",
                (state, run_id),
            )
            marked += [(date.fromisoformat(s), date.fromisoformat(e)) for s, e in rows]
        return marked

    def settle_crashed(self, published_runs: Iterable[str]) -> list[str]:
        """Settle runs left `running` by a dead process; return their ids."""
        published = set(published_runs)
        crashed = [r for (r,) in self.db.execute("select run_id from runs where state = 'running'")]
        for run_id in crashed:
            self.db.execute(
                "update windows set state = case when ? then 'published' else 'crashed' end, "
                "finished_at = coalesce(finished_at, ?), "
                "failure = coalesce(failure, 'the run died before finishing (killed or crashed)') "
                "where run_id = ? and state = 'running'",
                (run_id in published, now(), run_id),
            )
            self.db.execute(
                "update runs set state = 'crashed', finished_at = ?, "
                "failure = 'the run died before finishing (killed or crashed)' where run_id = ?",
                (now(), run_id),
            )
        return crashed

    def windows(self, limit: int = 50) -> list[WindowRow]:
        rows = self.db.execute(
            "select run_id, window_start, window_end, state, attempts, started_at, finished_at, "
            "rows_changed, tests_passed, tests_failed, failure, audit_path, kind, rebuilt, "
            "code_fingerprint, batch, freshness from windows "
            "order by started_at desc, window_start desc limit ?",
            (limit,),
        ).fetchall()
        return [
            WindowRow(
                r[0],
                date.fromisoformat(r[1]),
                date.fromisoformat(r[2]),
                r[3],
                r[4],
                r[5],
                r[6],
                json.loads(r[7]) if r[7] else None,
                r[8],
                r[9],
                r[10],
                r[11],
                r[12],
                json.loads(r[13]) if r[13] else None,
                r[14],
                r[15],
                json.loads(r[16]) if r[16] else None,
            )
            for r in rows
        ]

    def new_findings(self, findings: Iterable[tuple[str, str, str]]) -> list[tuple[str, str, str]]:
        """Keep the landing zone's current (path, status, reason) findings; return those not
        seen before, so each is alerted on once, and again only if it changes."""
        current = {path: (status, reason) for path, status, reason in findings}
        known = {
            path: (status, reason)
            for path, status, reason in self.db.execute(
                "select path, status, reason from landing_findings"
            )
        }
        new = [(p, *v) for p, v in current.items() if known.get(p) != v]
        self.db.execute("begin")
        self.db.executemany(
            "delete from landing_findings where path = ?", [(p,) for p in known if p not in current]
        )
        self.db.executemany(
            "insert or replace into landing_findings values (?, ?, ?, ?)",
            [(*finding, now()) for finding in new],
        )
        self.db.execute("commit")
        return new

    def new_overdue(self, overdue: Iterable[tuple[str, str, date]]) -> set[tuple[str, str, date]]:
        """Remember these overdue (source, table, day) deliveries; return those not alerted on
        before, so each is alerted on once."""
        current = set(overdue)
        known = {
            (source, table, date.fromisoformat(day))
            for source, table, day in self.db.execute(
                "select source, table_name, delivery_date from overdue_alerts"
            )
        }
        new = current - known
        self.db.executemany(
            "insert into overdue_alerts values (?, ?, ?, ?)",
            [(source, table, day.isoformat(), now()) for source, table, day in sorted(new)],
        )
        return new

    def record_quarantine(
        self, run_id: str, start: date, end: date, held: dict[str, int] | None
    ) -> dict[str, int]:
        """Keep what production holds back per file after a publish (None: unknown, as after
        a rollback); return the rows each file had held at the last publish and no longer
        holds: what this publish released."""
        before = dict(self.db.execute("select source_file, rows from quarantine_latest"))
        released = {
            file: rows - (held or {}).get(file, 0)
            for file, rows in before.items()
            if held is not None and rows > held.get(file, 0)
        }
        self.db.execute("begin")
        self.db.execute("delete from quarantine_latest")
        self.db.executemany(
            "insert into quarantine_latest values (?, ?)", sorted((held or {}).items())
        )
        self.db.executemany(
            "insert into quarantine_releases values (?, ?, ?, ?, ?, ?)",
            [
                (run_id, start.isoformat(), end.isoformat(), file, rows, now())
                for file, rows in sorted(released.items())
            ],
        )
        self.db.execute("commit")
        return released

    def releases(self, limit: int = 50) -> list[tuple[str, str, str, str, int, str]]:
        """(run, window start, window end, file, rows released, when), newest first."""
        return self.db.execute(
            "select run_id, window_start, window_end, source_file, rows, released_at "
            "from quarantine_releases order by released_at desc, source_file limit ?",
            (limit,),
        ).fetchall()

    def runs(self, limit: int = 20) -> list[tuple]:
        return self.db.execute(
            "select run_id, command, started_at, finished_at, state, exit_code, failure, "
            "transient_retries from runs order by started_at desc limit ?",
            (limit,),
        ).fetchall()


@dataclass(frozen=True)
class VerifyRow:
    verify_id: str
    scope: str
    started_at: str
    finished_at: str
    state: str
    exit_code: int
    relations_checked: int
    relations_drifted: dict[str, object]
    failure: str | None


def record_verification(ledger: Ledger, row: VerifyRow) -> None:
    """Keep one `durable verify` result (a function, not a method: the ledger's runs and windows
    stay the class's concern)."""
    ledger.db.execute(
        "insert into verifications values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            row.verify_id,
            row.scope,
            row.started_at,
            row.finished_at,
            row.state,
            row.exit_code,
            row.relations_checked,
            json.dumps(row.relations_drifted, sort_keys=True, default=str),
            row.failure,
        ),
    )


def verifications(ledger: Ledger, limit: int = 1) -> list[VerifyRow]:
    rows = ledger.db.execute(
        "select verify_id, scope, started_at, finished_at, state, exit_code, relations_checked, "
        "relations_drifted, failure from verifications order by started_at desc limit ?",
        (limit,),
    ).fetchall()
    return [VerifyRow(*r[:7], json.loads(r[7]) if r[7] else {}, r[8]) for r in rows]
