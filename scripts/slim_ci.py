"""Slim CI: build and test only what a change touches (`state:modified+`), deferring the rest.

    python scripts/slim_ci.py [--state DIR] [--base-ref REF] [--workdir DIR] [--landing DIR]

The production manifest (what is deployed) is read from, in order: `--state DIR`,
`$DURABLE_PROD_STATE_DIR`, `data/prod-state/` (each a directory holding `manifest.json`; see
docs/CI.md for where it comes from). Without one, `--base-ref` (e.g. origin/main) stands in:
its project files are parsed into a manifest, which is all state comparison needs. Without
either, the script falls back to a full `dbt build`.

The build never touches a real warehouse. It runs in a fresh CI DuckDB file under the workdir:
1. small simulated deliveries (jaffle_simulator) are landed and loaded into the raw tables, so
   the run works from a fresh clone (or `--landing` reuses a landing zone);
2. `--defer` resolves each unselected parent to the production relation the manifest names, so
   those relations must exist: the unmodified models the change needs (`@state:modified`
   minus `state:modified+`) are built, tests skipped, into the production schema of a file
   named like the production database (DuckDB names a database after its file);
3. `dbt build --select state:modified+ --defer --state DIR` builds and tests the change into
   the CI schema. Its run_results.json is <workdir>/target/run_results.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from collections import Counter
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
# The checkout's simulator (and runner): the runner's package does not install the simulator.
sys.path.insert(0, str(PROJECT_DIR))
DEFAULT_STATE_DIR = "data/prod-state"
# (database, schema) of production by default: DuckDB names a database after its file,
# `data/warehouse/warehouse.duckdb` (profiles.yml).
DEFAULT_RELATION = ("warehouse", "analytics")
DBT_FILES = (
    "dbt_project.yml",
    "profiles.yml",
    "packages.yml",
    "package-lock.yml",
    "packages",
    "models",
    "macros",
    "tests",
    "snapshots",
    "seeds",
)


def resolve_state(project_dir: Path, state: Path | None) -> Path | None:
    """The directory holding the production manifest, or None when there is none.

    The first of --state, $DURABLE_PROD_STATE_DIR and data/prod-state that is given is the one
    used: a named directory without a manifest means "no manifest", not "look elsewhere".
    """
    chosen = state or Path(os.environ.get("DURABLE_PROD_STATE_DIR") or DEFAULT_STATE_DIR)
    path = chosen if chosen.is_absolute() else project_dir / chosen
    if (path / "manifest.json").is_file():
        return path
    print(f"slim-ci: no production manifest at {path / 'manifest.json'}", file=sys.stderr)
    return None


def manifest_from_ref(project_dir: Path, ref: str, out: Path) -> Path:
    """Parse the dbt project as it is at git `ref` (no database needed) into `out`/manifest.json."""
    with tempfile.TemporaryDirectory(prefix="slim-ci-base-") as tmp:
        archive = Path(tmp) / "base.tar"
        paths = [p for p in DBT_FILES if (project_dir / p).exists()]
        subprocess.run(
            ["git", "archive", "--format=tar", "-o", str(archive), ref, "--", *paths],
            cwd=project_dir,
            check=True,
        )
        base = Path(tmp) / "project"
        with tarfile.open(archive) as tar:
            tar.extractall(base, filter="data")
        install_packages(base)
        dbt(
            [
                "parse",
                "--project-dir",
                str(base),
                "--profiles-dir",
                str(base),
                "--target-path",
                str(out),
            ]
        )
    return out


def install_packages(project_dir: Path) -> None:
    """`dbt deps` where packages.yml asks for packages not installed yet (a fresh checkout)."""
    if (project_dir / "packages.yml").exists() and not (project_dir / "dbt_packages").exists():
        dbt(["deps", "--project-dir", str(project_dir), "--profiles-dir", str(project_dir)])


def relation_of(manifest_dir: Path) -> tuple[str, str]:
    """(database, schema) the production manifest's models live in."""
    manifest = json.loads((manifest_dir / "manifest.json").read_text())
    for node in manifest["nodes"].values():
        if node["resource_type"] == "model":
            return node["database"], node["schema"]
    return DEFAULT_RELATION


def land_and_load(
    project_dir: Path, landing: Path | None, workdir: Path, database: Path, seed: int, days: int
) -> None:
    from durable.config import Settings
    from durable.pipeline import load
    from jaffle_simulator import DeliveryPlan

    if landing is None:
        landing = workdir / "landing"
        cache = project_dir / "data" / "cache" / "jafgen"
        DeliveryPlan.build(seed=seed, days=days, cache_dir=cache).land(landing)
    settings = Settings(project_dir=project_dir, landing_dir=landing, duckdb_path=database)
    report = load(settings, None)
    if report.quarantined:
        sys.exit(f"slim-ci: the simulated landing did not load: {report.quarantined}")
    os.environ.update(settings.dbt_environment())


def dbt(args: list[str]) -> bool:
    from dbt.cli.main import dbtRunner

    print("slim-ci: dbt " + " ".join(args), flush=True)
    result = dbtRunner().invoke(args)
    return bool(result.success)


def summarize(target: Path) -> None:
    run_results = json.loads((target / "run_results.json").read_text())["results"]
    counts = Counter(r["status"] for r in run_results)
    print(f"slim-ci: {len(run_results)} nodes: " + ", ".join(f"{n} {s}" for s, n in counts.items()))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project-dir", type=Path, default=PROJECT_DIR)
    parser.add_argument("--state", type=Path, help="directory with the production manifest.json")
    parser.add_argument("--base-ref", help="git ref to compare with when there is no manifest")
    parser.add_argument("--workdir", type=Path, help="default: <project>/target/slim-ci")
    parser.add_argument("--landing", type=Path, help="landing zone to load instead of simulating")
    parser.add_argument("--seed", type=int, default=7, help="seed of the simulated deliveries")
    parser.add_argument("--days", type=int, default=4, help="days of simulated deliveries")
    parser.add_argument("--ci-schema", default=os.environ.get("DURABLE_CI_SCHEMA", "ci"))
    args = parser.parse_args(argv)
    began = time.perf_counter()

    project_dir = args.project_dir.resolve()
    workdir = (args.workdir or project_dir / "target" / "slim-ci").resolve()
    shutil.rmtree(workdir, ignore_errors=True)  # a fresh CI database every run
    workdir.mkdir(parents=True)
    state = resolve_state(project_dir, args.state.resolve() if args.state else None)
    if state is None and args.base_ref:
        print(f"slim-ci: no production manifest; comparing with {args.base_ref}")
        # Parsed with the settings the build will have: env_var() values are part of a node.
        from durable.config import Settings

        os.environ.update(Settings(project_dir=project_dir).dbt_environment())
        state = manifest_from_ref(project_dir, args.base_ref, workdir / "base-state")
    database, prod_schema = relation_of(state) if state else DEFAULT_RELATION

    install_packages(project_dir)
    ci_database = workdir / f"{database}.duckdb"
    land_and_load(project_dir, args.landing, workdir, ci_database, args.seed, args.days)
    target = workdir / "target"
    common = [
        "--project-dir",
        str(project_dir),
        "--profiles-dir",
        str(project_dir),
        "--target-path",
        str(target),
    ]

    if state is None:
        print("slim-ci: no production manifest (see docs/CI.md): full build")
        os.environ["DURABLE_SCHEMA"] = args.ci_schema
        ok = dbt(["build", *common])
    else:
        print(f"slim-ci: production manifest {state / 'manifest.json'}")
        os.environ["DURABLE_SCHEMA"] = prod_schema
        deferred = dbt(
            [
                "build",
                *common,
                "--state",
                str(state),
                "--select",
                "@state:modified",
                "--exclude",
                "state:modified+",
                "--resource-type",
                "model",
                "--resource-type",
                "snapshot",
                "--resource-type",
                "seed",
            ]
        )
        if not deferred:
            print("slim-ci: could not build the unmodified parents to defer to", file=sys.stderr)
            return 1
        if (target / "run_results.json").exists():
            (target / "run_results.json").rename(workdir / "deferred_run_results.json")
        os.environ["DURABLE_SCHEMA"] = args.ci_schema
        ok = dbt(
            ["build", *common, "--state", str(state), "--defer", "--select", "state:modified+"]
        )
    if (target / "run_results.json").exists():
        summarize(target)
    print(f"slim-ci: {'passed' if ok else 'FAILED'} in {time.perf_counter() - began:.0f} s")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
