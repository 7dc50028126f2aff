"""What a window's `dbt build` selects: what its deliveries feed and what the project changed.

Most days deliver a few of the landed tables; the models and tests of the others would read the
same rows and find the tables they already hold. So a window builds the descendants of
the sources it delivered, the nodes the project changed since the production manifest
(`state:modified+`: an edited model is rebuilt the day it ships, not on its source's next
delivery), and the sources' own tests, which must run every day: they are what notices a
delivery that did not come. Without a production manifest (the first run) it builds everything.
On the code production last published (same fingerprint, below) `state:modified+` is empty by
construction, so the build is not handed the production manifest to compare with (reading it
took about 0.4 s of Python before the first node could start).

Unit tests run whenever the code changed since they last passed in production, all of them, and
not otherwise: their inputs are fixtures, so on the same code and versions they can only repeat
their last result (dbt Labs recommends leaving them out of production builds altogether).

Only where the audit copy holds every relation of production (DuckDB's copy of the file): the
PostgreSQL and Spark audit schemas copy tables, not views, so their builds run the whole project.
"""

from __future__ import annotations

import hashlib
from datetime import date
from importlib import metadata
from pathlib import Path

from durable import dbt
from durable.config import Settings
from durable.landing.accounting import LoadReport

# Written by every load, whatever it delivered: the file accounting and quarantine read them.
# The durable dbt package declares them as tables of its own source.
LEDGER_SOURCE = "durable"
LEDGER_TABLES = ("landed_files", "rejected_rows", "landing_findings")
# In the production state: the fingerprint of the code the unit tests last passed on.
UNIT_TESTS_PASSED = "unit-tests-passed"
# Besides the project's files, what a unit test's result can depend on.
VERSIONED = ("dbt-core", "dbt-adapters", "dbt-duckdb", "dbt-postgres", "dbt-spark", "duckdb")


def delivered_tables(load: LoadReport, start: date, end: date) -> list[tuple[str, str]]:
    """(source, table) with a file delivered in [start, end], or loaded now (a late or re-sent
    file)."""
    return sorted(
        {
            (f.source, f.entity)
            for f in load.files
            if f.status != "unchanged" or start <= f.delivery_date <= end
        }
    )


def build_selection(
    load: LoadReport,
    start: date | None,
    end: date | None,
    production_state: Path,
    code_changed: bool,
) -> list[str]:
    """The `--select` (and `--state`) arguments of the window's build; none builds everything.
    `code_changed`: the code differs from what production last published, so what it changed
    (`state:modified+` against the production manifest) is built too."""
    if start is None or end is None or not (production_state / "manifest.json").exists():
        return []
    feeds = [f"source:{source}.{name}+" for source, name in delivered_tables(load, start, end)]
    ledger = [f"source:{LEDGER_SOURCE}.{name}+" for name in LEDGER_TABLES]
    changed = ["state:modified+", "--state", str(production_state)] if code_changed else []
    # Every landed source's own tests run every day: they notice a delivery that did not come.
    tests = [f"source:{source}" for source in load.sources]
    return ["--select", *tests, *feeds, *ledger, *changed]


def with_seeds_read(select: list[str]) -> list[str]:
    """A selection and the seeds its nodes read (`+<selector>,resource_type:seed`): a seed is a
    table like any model's, so a build of part of the project in a schema that never held it
    (a new audit schema, a test's) must build it too, or the models reading it fail."""
    seeds = [
        f"{selector if selector[:1] in '+@' else '+' + selector},resource_type:seed"
        for selector in select
    ]
    return [*select, *seeds]


def code_fingerprint(settings: Settings) -> str | None:
    """A digest of the code a build runs: every file dbt parsed (the project's and dbt's own
    macros), the environment variables they read, dbt_project.yml and profiles.yml, the target
    and the versions of dbt and DuckDB. None when the project does not parse (the build reports
    why)."""
    manifest = dbt.manifest(settings)
    if manifest is None:
        return None
    digest = hashlib.sha256()
    for file_id in sorted(manifest.files):
        digest.update(f"{file_id} {manifest.files[file_id].checksum.checksum}\n".encode())
    for name, value in sorted(manifest.env_vars.items()):  # env_var() in the project's files
        digest.update(f"env {name}={value}\n".encode())
    for path in (settings.project_dir / "dbt_project.yml", settings.profiles_dir / "profiles.yml"):
        digest.update(path.read_bytes() if path.exists() else b"")
    digest.update(f"target={settings.target_name()}\n".encode())
    for package in VERSIONED:
        try:
            version = metadata.version(package)
        except metadata.PackageNotFoundError:
            version = "-"
        digest.update(f"{package}={version}\n".encode())
    return digest.hexdigest()


def build_arguments(
    load: LoadReport,
    start: date | None,
    end: date | None,
    production_state: Path,
    fingerprint: str | None,
    by_delivery: bool,
) -> list[str]:
    """What follows `build` in the window's command: its selection when `by_delivery` (the audit
    copy holds every relation), else the whole project; with the unit tests or without them."""
    changed = not published(fingerprint, production_state)
    selection = build_selection(load, start, end, production_state, changed) if by_delivery else []
    return selection + unit_test_selection(changed, selection)


def published(fingerprint: str | None, production_state: Path) -> bool:
    """The code is what production last published, and its unit tests passed on it."""
    passed = production_state / UNIT_TESTS_PASSED
    return bool(fingerprint) and passed.exists() and passed.read_text().strip() == fingerprint


def unit_test_selection(code_changed: bool, selection: list[str]) -> list[str]:
    """Leave the unit tests out on code they passed on; after any change, select all of them."""
    if not code_changed:
        return ["--exclude-resource-type", "unit_test"]
    return ["--select", "resource_type:unit_test"] if selection else []  # none: all are built


def record_unit_tests_passed(fingerprint: str | None, production_state: Path) -> None:
    """After a publish: its build ran every unit test on this code, or they had passed on it."""
    if fingerprint:
        production_state.mkdir(parents=True, exist_ok=True)
        (production_state / UNIT_TESTS_PASSED).write_text(fingerprint + "\n")
