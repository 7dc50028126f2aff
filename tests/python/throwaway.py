"""A throwaway dbt project around the repository's macros, for tests of a macro or a generic
test on a few rows of the caller's own models."""

from __future__ import annotations

import shutil
from pathlib import Path

from conftest import PROJECT_DIR
from durable.config import Settings


def macro_project(root: Path, models: dict[str, str], generic_tests: bool = False) -> Settings:
    """Models `name -> sql` in a project at `root` named like the repository's (its macros
    dispatch the same), with its macros, profiles.yml and, optionally, generic tests; settings
    for a DuckDB file inside it."""
    (root / "models").mkdir(parents=True)
    for name, sql in models.items():
        (root / "models" / f"{name}.sql").write_text(sql + "\n")
    shutil.copytree(PROJECT_DIR / "macros", root / "macros")
    if generic_tests:
        shutil.copytree(PROJECT_DIR / "tests" / "generic", root / "tests" / "generic")
    shutil.copy(PROJECT_DIR / "profiles.yml", root / "profiles.yml")
    (root / "dbt_project.yml").write_text(
        "name: jaffle_shop\nversion: '1.0'\nconfig-version: 2\nprofile: jaffle_shop\n"
        "models:\n  jaffle_shop:\n    +materialized: table\n"
    )
    return Settings(project_dir=root, duckdb_path=root / "check.duckdb")
