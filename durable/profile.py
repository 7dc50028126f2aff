"""The output of profiles.yml a dbt command will use, read the way dbt reads it.

The runner picks its engine by the output's adapter `type`, and the DuckDB warehouse by its
`path`, both read by dbt's own profile machinery, so `env_var()`, a templated `target:`,
`--target` and DBT_PROFILE mean here what they mean to dbt.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from durable.errors import BadInput

# dbt-duckdb paths that name no file of the runner's: WAP by file rename cannot apply to them.
NOT_A_FILE = (":memory:", "md:", "motherduck:")


@dataclass(frozen=True)
class ProfileOutput:
    profile: str
    target: str  # the output's name, e.g. `duckdb` or `prod`
    adapter: str  # its `type`: duckdb, postgres, spark, ...
    fields: Mapping[str, object]  # the output as dbt renders it

    @property
    def duckdb_file(self) -> Path | None:
        """The DuckDB file the output writes, as written (relative or not); None for another
        adapter, an in-memory database or MotherDuck."""
        path = self.fields.get("path")
        if self.adapter != "duckdb" or not isinstance(path, str) or not path:
            return None
        return None if path.startswith(NOT_A_FILE) else Path(path)


def default_profiles_dir(project_dir: Path) -> Path:
    """Where profiles.yml is when DBT_PROFILES_DIR does not say: the project folder when it holds
    one, else ~/.dbt (dbt looks in the current directory; the runner's is the project's)."""
    return project_dir if (project_dir / "profiles.yml").is_file() else Path.home() / ".dbt"


def resolve_output(
    project_dir: Path, profiles_dir: Path, target: str | None, env: Mapping[str, str]
) -> ProfileOutput:
    """Render the output dbt would pick for this project, with `env` as the environment.

    Raises BadInput, with dbt's words, when the project names no profile, profiles.yml lacks it
    or its target, or a value does not render."""
    # Imported here: dbt's config machinery costs a second to import, and a Settings made with
    # every path given never needs it.
    from dbt.config.profile import Profile, read_profile
    from dbt.config.project import load_raw_project
    from dbt.config.renderer import ProfileRenderer
    from dbt_common.context import set_invocation_context
    from dbt_common.exceptions import DbtBaseException

    # env_var() reads the invocation's environment; the last dbt command may have left another.
    set_invocation_context(dict(env))
    try:
        renderer = ProfileRenderer({})
        profile_name = env.get("DBT_PROFILE") or renderer.render_value(
            load_raw_project(str(project_dir)).get("profile")
        )
        where = profiles_dir / "profiles.yml"
        if not where.is_file():
            raise BadInput(f"no {where} (DBT_PROFILES_DIR) for the profile {profile_name!r}")
        raw = read_profile(str(profiles_dir)).get(profile_name)
        if not raw:
            raise BadInput(f"no profile {profile_name!r} in {where}")
        name, fields = Profile.render_profile(raw, profile_name, target, renderer)
    except DbtBaseException as error:
        lines = str(getattr(error, "msg", None) or error).strip().splitlines()
        raise BadInput(f"profiles.yml: {' '.join(line.strip() for line in lines)}") from None
    return ProfileOutput(profile_name, name, str(fields.get("type", "")), fields)
