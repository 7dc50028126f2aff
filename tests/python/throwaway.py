"""A throwaway dbt project around the durable package and the repository's macros, for tests
of a macro or a generic test on a few rows of the caller's own models."""

from __future__ import annotations

import shutil
from pathlib import Path

from conftest import PROJECT_DIR
from durable.config import Settings


def macro_project(root: Path, models: dict[str, str]) -> Settings:
    """Models `name -> sql` in a project at `root` named like the repository's, with its macros,
    profiles.yml and the durable package (installed as `dbt deps` would, so its generic tests
    and overrides apply); settings for a DuckDB file inside it."""
    (root / "models").mkdir(parents=True)
    for name, sql in models.items():
        (root / "models" / f"{name}.sql").write_text(sql + "\n")
    shutil.copytree(PROJECT_DIR / "macros", root / "macros")
    (root / "dbt_packages").mkdir()
    (root / "dbt_packages" / "durable").symlink_to(PROJECT_DIR / "packages" / "durable")
    shutil.copy(PROJECT_DIR / "profiles.yml", root / "profiles.yml")
    (root / "dbt_project.yml").write_text(
        "name: jaffle_shop\nversion: '1.0'\nconfig-version: 2\nprofile: jaffle_shop\n"
        "models:\n  jaffle_shop:\n    +materialized: table\n"
        "dispatch:\n  - macro_namespace: dbt\n    search_order: [jaffle_shop, durable, dbt]\n"
    )
    return Settings(project_dir=root, duckdb_path=root / "check.duckdb")
