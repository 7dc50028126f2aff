"""Code changes reach production through write-audit-publish, like deliveries do.

Deliveries make a window due; so does the code. Production records the code it last published:
its manifest and the fingerprint of its files (durable/selection.py), in the production state and
in the ledger. Two ways a change of the code ships:

- **By itself**: a bare `durable run` with no delivery due is due when the project differs from
  what production published. dbt's `state:modified` against the production manifest names what
  changed (what `durable status` shows), and the run builds `state:modified+` in the audit copy
  with no window (incremental models take their newest rows), tests it and publishes it. An edit
  that ships with a delivery window is built the same way, inside that window.
- **As a rollout**: `durable run --full-refresh --select <selector>` rebuilds the selected models
  and everything downstream of them from the whole history, tests them and publishes only if
  every test passed. A new or changed column of an incremental model ships this way: the
  package's schema-change check stops any incremental run of it and names this command.

Why the runner does not full-refresh a changed incremental model by itself: the refresh costs the
whole history of the model and of everything downstream of it, which a daily schedule should not
pay unannounced; so a changed column stops the run with the command to type, and a changed
incremental model whose columns did not change is built incrementally, with a note that its older
rows keep what the old code wrote until the same command rewrites them.

A rollout also builds whatever else the code changed since production (`state:modified+`): the
publish records the whole project as production's code, so no change may be left unbuilt.

Telling whether the code changed must stay cheap: a scheduler runs `durable run` often, and most
runs find nothing due. Parsing the project takes seconds, so production also records a digest of
the files dbt reads (`code-files`, milliseconds to compute); while they are unchanged, nothing is
parsed.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import yaml

from durable import dbt
from durable.config import Settings
from durable.errors import BadInput
from durable.selection import VERSIONED, code_fingerprint, published, unit_test_selection

CODE_CHANGE = "code change"
FULL_REFRESH = "full refresh"
DELIVERIES = "deliveries"
# What a change of the code is made of: the nodes that write or check production's tables
# (unit tests read fixtures; they run on every change anyway, durable/selection.py).
CHANGED_TYPES = ("model", "snapshot", "seed", "test")
SHOWN = 6  # names listed in one line before "and N more"
# In the production state: the digest of the files production's code was read from.
FILES_DIGEST = "code-files"
# Where dbt reads a project's code (dbt_project.yml may move each), and what it reads there.
CODE_PATHS = {
    "model-paths": ["models"],
    "macro-paths": ["macros"],
    "seed-paths": ["seeds"],
    "snapshot-paths": ["snapshots"],
    "test-paths": ["tests"],
    "analysis-paths": ["analyses"],
}
CODE_SUFFIXES = (".sql", ".yml", ".yaml", ".csv", ".md", ".py", ".jinja")


@dataclass(frozen=True)
class CodeChanges:
    """What the code changed since production: the models (snapshots, seeds) that write its
    tables, and the data tests that check them, which the build runs too."""

    models: tuple[str, ...] = ()
    tests: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.models or self.tests)

    def __str__(self) -> str:
        parts = [names_line(self.models)] if self.models else []
        if self.tests:
            parts.append(f"{len(self.tests)} test" + ("s" if len(self.tests) > 1 else ""))
        return " and ".join(parts)


@dataclass(frozen=True)
class Rollout:
    """A build of the code rather than of deliveries: why, and what it names."""

    reason: str  # CODE_CHANGE or FULL_REFRESH
    changes: CodeChanges  # what the code changed, or the models the selector chose

    @property
    def full_refresh(self) -> bool:
        return self.reason == FULL_REFRESH

    @property
    def models(self) -> tuple[str, ...]:
        return self.changes.models

    @property
    def label(self) -> str:
        return f"{self.reason} of {self.changes}"


def names_line(names: Sequence[str]) -> str:
    shown = ", ".join(names[:SHOWN])
    return shown + (f" and {len(names) - SHOWN} more" if len(names) > SHOWN else "")


def requested_rollout(
    full_refresh: bool, select: Sequence[str], window_given: bool
) -> list[str] | None:
    """The selector of a `--full-refresh` run (every model when none is given), or None for a
    run of windows. `--select` alone would rebuild models incrementally, which the windows
    already do: it goes with `--full-refresh`."""
    selector = [part for text in select for part in text.split()]
    if not full_refresh:
        if selector:
            raise BadInput("--select goes with --full-refresh (a rollout of the selected models)")
        return None
    if window_given:
        raise BadInput("--full-refresh rebuilds from the whole history: it takes no --date")
    return selector or ["resource_type:model"]


def selected_models(settings: Settings, selector: Sequence[str]) -> CodeChanges:
    """The models a `--select` names, resolved by dbt, so a typo fails before any copy."""
    nodes = dbt.list_nodes(settings, ["--select", *selector, "--resource-type", "model"])
    if not nodes:
        raise BadInput(f"--select {' '.join(selector)} selects no model of the project")
    return CodeChanges(models=tuple(name for _, name in nodes))


def code_changes(
    settings: Settings, production_state: Path, fingerprint: str | None
) -> CodeChanges:
    """The nodes the code changed since production last published (dbt's `state:modified`
    against the production manifest). None on the code production published, and none without
    a production manifest (before the first publish), as nothing can be compared."""
    if published(fingerprint, production_state):
        return CodeChanges()
    if not (production_state / "manifest.json").exists():
        return CodeChanges()
    nodes = dbt.list_nodes(
        settings,
        ["--select", "state:modified", "--state", str(production_state)]
        + ["--resource-type", *CHANGED_TYPES],
    )
    return CodeChanges(
        models=tuple(sorted({name for kind, name in nodes if kind != "test"})),
        tests=tuple(sorted({name for kind, name in nodes if kind == "test"})),
    )


def due_code_changes(audit_settings: Settings, production_state: Path) -> CodeChanges:
    """What makes a run due by itself: the changed nodes, parsed as the audit build will be;
    none without parsing while the files are those production's code was read from."""
    digest = files_digest(audit_settings)
    recorded = production_state / FILES_DIGEST
    if recorded.exists() and recorded.read_text().strip() == digest:
        return CodeChanges()
    fingerprint = code_fingerprint(audit_settings)
    if published(fingerprint, production_state):  # other bytes, the same code: skip next time
        recorded.write_text(digest + "\n")
        return CodeChanges()
    return code_changes(audit_settings, production_state, fingerprint)


def files_digest(settings: Settings) -> str:
    """A digest of every file dbt may read as code (the project's and its packages'), the
    target and the versions of dbt: equal digests, equal code; a different one is parsed."""
    project = settings.project_dir
    try:
        config = yaml.safe_load((project / "dbt_project.yml").read_text()) or {}
    except (OSError, yaml.YAMLError):
        config = {}
    roots = {root for key, default in CODE_PATHS.items() for root in config.get(key, default)}
    roots.add(config.get("packages-install-path", "dbt_packages"))
    digest = hashlib.sha256(f"target={settings.target_name()}\n".encode())
    for package in VERSIONED:
        try:
            digest.update(f"{package}={metadata.version(package)}\n".encode())
        except metadata.PackageNotFoundError:
            digest.update(f"{package}=-\n".encode())
    for name in ("dbt_project.yml", "profiles.yml", "packages.yml", "dependencies.yml"):
        path = (settings.profiles_dir if name == "profiles.yml" else project) / name
        digest.update(f"{name}\n".encode() + (path.read_bytes() if path.exists() else b""))
    for root in sorted(roots):
        for directory, subdirectories, files in os.walk(project / root, followlinks=True):
            subdirectories[:] = sorted(
                d for d in subdirectories if not d.startswith(".") and d != "__pycache__"
            )
            for name in sorted(files):
                if name.endswith(CODE_SUFFIXES):
                    path = Path(directory, name)
                    digest.update(f"{path.relative_to(project)}\n".encode() + path.read_bytes())
    return digest.hexdigest()


def record_files_digest(digest: str | None, production_state: Path) -> None:
    """After a publish: the files production's code was read from."""
    if digest:
        production_state.mkdir(parents=True, exist_ok=True)
        (production_state / FILES_DIGEST).write_text(digest + "\n")


def rollout_arguments(
    rollout: Rollout, production_state: Path, fingerprint: str | None, by_selection: bool
) -> list[str]:
    """What follows `build` for a rollout. `by_selection`: the audit copy holds every relation,
    so the build may select part of the project; else it runs all of it (refreshed whole)."""
    changed = not published(fingerprint, production_state)
    refresh = ["--full-refresh"] if rollout.full_refresh else []
    if not by_selection:
        return refresh + unit_test_selection(changed, [])
    selection = [f"{model}+" for model in rollout.models] if rollout.full_refresh else []
    if changed and (production_state / "manifest.json").exists():
        selection += ["state:modified+", "--state", str(production_state)]
    selection = ["--select", *selection] if selection else []
    return refresh + selection + unit_test_selection(changed, selection)


def incremental_models(settings: Settings, names: Sequence[str]) -> list[str]:
    """The incremental models among `names`: built without a full refresh, their older rows
    keep what the previous code wrote."""
    manifest = dbt.manifest(settings)
    if manifest is None:
        return []
    wanted = set(names)
    return sorted(
        node.name
        for node in manifest.nodes.values()
        if node.resource_type == "model"
        and node.name in wanted
        and node.config.materialized == "incremental"
    )


def due_line(dates: Sequence[object], changes: CodeChanges) -> str:
    """`durable status`'s answer to "what is due", deliveries first."""
    parts = [", ".join(str(day) for day in dates)] if dates else []
    if changes:
        parts.append(f"code changed: {changes}")
    return "; ".join(parts) or "nothing"
