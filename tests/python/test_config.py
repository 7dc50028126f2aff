"""Settings read the dbt profile as dbt does: where profiles.yml is, which output, which file.

A project of two files (no models: nothing here runs dbt) and a profile whose outputs are named
after nothing the runner knows, so only their `type` can tell the engine.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from durable.config import Settings
from durable.dbt import _project_args
from durable.engines import adapter_type, engine_for
from durable.errors import BadInput

PROFILE = """
shop:
  target: "{{ env_var('SHOP_TARGET', 'prod') }}"
  outputs:
    prod:
      type: duckdb
      path: "{{ env_var('DURABLE_DUCKDB_PATH', 'warehouse/shop.duckdb') }}"
    reporting:
      type: postgres
      host: localhost
      port: 5432
      user: shop
      password: "{{ env_var('SHOP_PG_PASSWORD') }}"  # unset: fine while another output is used
      dbname: shop
      schema: analytics
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("DBT_PROFILES_DIR", "DBT_TARGET", "DBT_PROFILE", "DURABLE_DUCKDB_PATH"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("SHOP_TARGET", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    project = tmp_path / "project"
    project.mkdir()
    (project / "dbt_project.yml").write_text("name: shop\nversion: '1.0'\nprofile: shop\n")
    return project


def test_profiles_yml_is_found_where_dbt_looks(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """~/.dbt without one in the project; the project's own; DBT_PROFILES_DIR over both, a
    relative one read from the current directory, as dbt reads it."""
    assert Settings(project_dir=project).profiles_dir == tmp_path / "home" / ".dbt"
    (project / "profiles.yml").write_text(PROFILE)
    assert Settings(project_dir=project).profiles_dir == project
    elsewhere = tmp_path / "elsewhere"
    monkeypatch.setenv("DBT_PROFILES_DIR", str(elsewhere))
    assert Settings(project_dir=project).profiles_dir == elsewhere
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DBT_PROFILES_DIR", "elsewhere")
    assert Settings(project_dir=project).profiles_dir == elsewhere


def test_the_warehouse_is_the_profiles_duckdb_path(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rendered by dbt (env_var() and its default), relative to the project; the variable and an
    explicit setting still win."""
    profiles = tmp_path / "profiles"
    profiles.mkdir()
    (profiles / "profiles.yml").write_text(PROFILE)
    settings = Settings(project_dir=project, profiles_dir=profiles)
    assert settings.duckdb_path == project / "warehouse" / "shop.duckdb"
    given = Settings(project_dir=project, profiles_dir=profiles, duckdb_path=Path("a.duckdb"))
    assert given.duckdb_path == project / "a.duckdb"
    monkeypatch.setenv("DURABLE_DUCKDB_PATH", str(tmp_path / "prod.duckdb"))
    assert Settings(project_dir=project, profiles_dir=profiles).duckdb_path == (
        tmp_path / "prod.duckdb"
    )


def test_the_target_is_the_profiles_own_unless_set(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Unset, the profile's `target:` (templated here) is used and dbt is not handed one; the
    engine follows the output's `type`, not its name."""
    (project / "profiles.yml").write_text(PROFILE)
    settings = Settings(project_dir=project)
    assert settings.target is None and settings.target_name() == "prod"
    assert adapter_type(settings) == "duckdb"
    assert "--target" not in _project_args(settings)
    assert "DBT_TARGET" not in settings.dbt_environment()

    monkeypatch.setenv("SHOP_TARGET", "reporting")
    assert adapter_type(Settings(project_dir=project)) == "postgres"
    monkeypatch.delenv("SHOP_TARGET")
    monkeypatch.setenv("DBT_TARGET", "reporting")
    chosen = Settings(project_dir=project)
    assert chosen.target == "reporting" and adapter_type(chosen) == "postgres"
    assert _project_args(chosen)[-2:] == ["--target", "reporting"]
    assert chosen.dbt_environment()["DBT_TARGET"] == "reporting"
    # No DuckDB output: the warehouse setting keeps its default.
    assert chosen.duckdb_path == project / "data" / "warehouse" / "warehouse.duckdb"


def test_a_profile_dbt_cannot_read_is_bad_input(project: Path) -> None:
    """One line from dbt's own message; the settings themselves still load (status works)."""
    (project / "profiles.yml").write_text(PROFILE)
    settings = Settings(project_dir=project, target="staging")
    with pytest.raises(BadInput, match="does not have a target named 'staging'"):
        engine_for(settings)
    (project / "profiles.yml").unlink()
    with pytest.raises(BadInput, match="profiles.yml"):
        engine_for(Settings(project_dir=project))
