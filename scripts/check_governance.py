"""Governance checks on the dbt project, read from its manifest: what review should not catch.

Run `dbt parse` first (it writes target/manifest.json), then:

    python scripts/check_governance.py [--manifest target/manifest.json] [--catalog PATH]

Checks, for every model of the project and of the durable package (its models are built in
the project's warehouse like the project's own):
  description   the model and each of its columns have a description. Columns are those declared
                in YAML; with --catalog (a catalog.json from `dbt docs generate`) the model's actual
                columns in the warehouse are checked too, so an undeclared column is reported.
  primary key   one column tested both `unique` and `not_null`, or a `unique_combination_of_columns`
                test whose columns are each tested `not_null`.
  naming        staging/<source>/: base_<source>__<entity> and stg_<source>__<entity>;
                intermediate/: int_*; marts/: fct_*, dim_*, agg_*; quarantine/: any name.
  layering      a mart never reads a source (sources are read once, in staging).

And for every macro of the project and of the package (`macros:` in a _macros.yml):
  macro docs    the macro has a description, and each argument of its signature an entry with a
                type and a description (an entry for an argument it does not take is reported
                too). Generic tests are their `test_<name>` macros. An engine implementation of
                a macro its package dispatches (`duckdb__key_hash` for
                `adapter.dispatch('key_hash', 'durable')`) is covered by the dispatcher's entry;
                an override of one of dbt's macros (`duckdb__test_relationships`) needs its own.

Prints every offender, one per line with the model's or macro's file, and exits 1 if there is any.
"""

from __future__ import annotations

import argparse
import ast
import json
import re
import sys
from collections import defaultdict
from pathlib import Path

STAGING = re.compile(r"^models/staging/(?P<source>[a-z0-9_]+)/(?:base/)?[^/]+\.sql$")
STAGING_NAME = re.compile(
    r"^(?P<prefix>base|stg)_(?P<source>[a-z0-9]+(?:_[a-z0-9]+)*)__[a-z0-9_]+$"
)
LAYER_NAMES = {
    "intermediate": (re.compile(r"^int_[a-z0-9_]+$"), "int_<entity>_<verb>ed"),
    "marts": (
        re.compile(r"^(fct|dim|agg)_[a-z0-9_]+$"),
        "fct_<process>, dim_<entity> or agg_<grain>",
    ),
}
FREE_NAMED_FOLDERS = {"quarantine"}  # named for what they hold, not by layer
# Packages whose models and macros must be documented, besides the root project's.
DOCUMENTED_PACKAGES = {"durable"}
DISPATCH = re.compile(
    r"""adapter\.dispatch\(\s*['"](?P<name>\w+)['"]\s*,\s*"""
    r"""(?:macro_namespace\s*=\s*)?['"](?P<namespace>\w+)['"]"""
)
SIGNATURE = re.compile(r"\{%-?\s*(?:macro|test)\s+\w+\s*\(")
MATERIALIZATION = re.compile(r"\{%-?\s*materialization\s")  # takes no arguments


def load(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        sys.exit(f"{path}: not found; run `dbt parse` (or `dbt docs generate` for a catalog) first")


def _tests_by_model(manifest: dict) -> dict[str, list[dict]]:
    tests: dict[str, list[dict]] = defaultdict(list)
    for node in manifest["nodes"].values():
        if (
            node["resource_type"] == "test"
            and node.get("test_metadata")
            and node.get("attached_node")
        ):
            tests[node["attached_node"]].append(node)
    return tests


def _layer(model: dict) -> str | None:
    parts = Path(model["original_file_path"]).parts
    return parts[1] if len(parts) > 2 and parts[0] == "models" else None


def check_descriptions(model: dict, catalog: dict | None) -> list[str]:
    problems = []
    if not (model.get("description") or "").strip():
        problems.append("model has no description")
    declared = model.get("columns") or {}
    for name, column in declared.items():
        if not (column.get("description") or "").strip():
            problems.append(f"column {name} has no description")
    if catalog is not None:
        entry = catalog.get("nodes", {}).get(model["unique_id"])
        if entry is not None:  # a model not built has no catalog entry: main() notes it
            known = {name.lower() for name in declared}
            for name in entry.get("columns", {}):
                if name.lower() not in known:
                    problems.append(f"column {name} is in the warehouse but not declared in YAML")
    return problems


def check_primary_key(model: dict, tests: list[dict]) -> list[str]:
    tested: dict[str, set[str]] = defaultdict(set)
    combinations: list[list[str]] = []
    for test in tests:
        name = test["test_metadata"]["name"]
        kwargs = test["test_metadata"].get("kwargs") or {}
        if name in ("unique", "not_null") and test.get("column_name"):
            tested[test["column_name"].lower()].add(name)
        elif name == "unique_combination_of_columns":
            combinations.append([c.lower() for c in kwargs.get("combination_of_columns") or []])
    if any(kinds >= {"unique", "not_null"} for kinds in tested.values()):
        return []
    for columns in combinations:
        if columns and all("not_null" in tested[c] for c in columns):
            return []
    if combinations:
        return [
            "no primary key: unique_combination_of_columns on "
            + " or ".join("(" + ", ".join(c) + ")" for c in combinations)
            + " needs a not_null test on each of its columns"
        ]
    return ["no primary key: no column is tested both unique and not_null"]


def check_name(model: dict) -> list[str]:
    name, path, layer = model["name"], model["original_file_path"], _layer(model)
    if layer == "staging":
        folder = STAGING.match(path)
        named = STAGING_NAME.match(name)
        if not folder:
            return [f"staging model outside models/staging/<source>/ (or its base/): {path}"]
        source = folder["source"]
        if not named or named["source"] != source:
            return [f"name should be base_{source}__<entity> or stg_{source}__<entity>"]
        in_base = "/base/" in path
        if in_base != (named["prefix"] == "base"):
            return ["base_ models live in staging/<source>/base/, stg_ models beside it"]
        return []
    if layer in LAYER_NAMES:
        pattern, expected = LAYER_NAMES[layer]
        return [] if pattern.match(name) else [f"name should be {expected} in {layer}/"]
    if layer in FREE_NAMED_FOLDERS:
        return []
    return [f"not in a layer folder (staging, intermediate, marts, quarantine): {path}"]


def check_layering(model: dict) -> list[str]:
    if _layer(model) != "marts":
        return []
    sources = [n for n in model["depends_on"]["nodes"] if n.startswith("source.")]
    return [f"mart reads a source directly: {s.removeprefix('source.')}" for s in sources]


def macro_arguments(macro_sql: str) -> list[str] | None:
    """The argument names of a macro's (or generic test's) signature; None if it cannot be read."""
    start = SIGNATURE.search(macro_sql)
    if not start:
        return [] if MATERIALIZATION.match(macro_sql.lstrip()) else None
    depth, quote = 1, None
    for end in range(start.end(), len(macro_sql)):
        char = macro_sql[end]
        if quote:
            quote = None if char == quote and macro_sql[end - 1] != "\\" else quote
        elif char in "'\"":
            quote = char
        elif char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
            if depth == 0:
                break
    else:
        return None
    try:  # Jinja's signatures are Python's (defaults like none, true, 'a, b', [1, 2] included)
        function = ast.parse(f"def signature({macro_sql[start.end() : end]}): pass").body[0]
    except SyntaxError:
        return None
    return [argument.arg for argument in function.args.args + function.args.kwonlyargs]


def _dispatched(macros: list[dict]) -> set[tuple[str, str]]:
    """(package, name) of every macro a package dispatches into its own namespace."""
    found = set()
    for macro in macros:
        for call in DISPATCH.finditer(macro.get("macro_sql") or ""):
            if call["namespace"] == macro["package_name"]:
                found.add((macro["package_name"], call["name"]))
    return found


def check_macro_docs(macro: dict, dispatched: set[tuple[str, str]]) -> list[str]:
    documented = {a["name"]: a for a in macro.get("arguments") or []}
    prefix, _, base = macro["name"].partition("__")
    if (
        prefix
        and base
        and (macro["package_name"], base) in dispatched
        and not (macro.get("description") or "").strip()
        and not documented
    ):
        return []  # an engine implementation: its dispatcher's entry documents it
    problems = []
    if not (macro.get("description") or "").strip():
        problems.append("no description")
    arguments = macro_arguments(macro.get("macro_sql") or "")
    if arguments is None:
        return [*problems, "its signature could not be read to check its arguments"]
    missing = [name for name in arguments if name not in documented]
    if missing:
        problems.append("arguments not documented: " + ", ".join(missing))
    for name, entry in documented.items():
        if name not in arguments:
            problems.append(f"documents argument {name}, which it does not take")
            continue
        if not (entry.get("description") or "").strip():
            problems.append(f"argument {name} has no description")
        if not (entry.get("type") or "").strip():
            problems.append(f"argument {name} has no type")
    return problems


def _node_file(node: dict, project: str | None) -> str:
    """The model's or macro's file from the repository root: a local package (dbt_packages/<name>,
    a symlink `dbt deps` makes) is named by its own folder, e.g. packages/durable/macros/..."""
    path = node["original_file_path"]
    if node["package_name"] == project:
        return path
    installed = Path("dbt_packages") / node["package_name"]
    if installed.is_symlink():
        target, here = installed.resolve(), Path.cwd().resolve()
        if target.is_relative_to(here):
            return str(target.relative_to(here) / path)
    return str(installed / path)


def documented_macros(manifest: dict) -> list[dict]:
    project = manifest["metadata"].get("project_name")
    packages = DOCUMENTED_PACKAGES | ({project} if project else set())
    return [m for m in manifest.get("macros", {}).values() if m["package_name"] in packages]


def offenders(manifest: dict, catalog: dict | None = None) -> list[str]:
    """Every problem found, as `<check>: <file> (<model>): <problem>` lines (for a macro,
    `macro docs: <file> (<package>.<macro>): <problems>`, one line per macro)."""
    project = manifest["metadata"].get("project_name")
    packages = DOCUMENTED_PACKAGES | ({project} if project else set())
    tests = _tests_by_model(manifest)
    found = []
    for unique_id, model in sorted(manifest["nodes"].items()):
        if model["resource_type"] != "model" or (project and model["package_name"] not in packages):
            continue
        where = f"{_node_file(model, project)} ({model['name']})"
        for check, problems in (
            ("description", check_descriptions(model, catalog)),
            ("primary key", check_primary_key(model, tests[unique_id])),
            ("naming", check_name(model)),
            ("layering", check_layering(model)),
        ):
            found += [f"{check}: {where}: {problem}" for problem in problems]
    macros = documented_macros(manifest)
    dispatched = _dispatched(macros)
    by_file = sorted(
        macros,
        key=lambda m: (m["package_name"] != project, m["original_file_path"], m["name"]),
    )
    for macro in by_file:
        problems = check_macro_docs(macro, dispatched)
        if problems:
            where = f"{_node_file(macro, project)} ({macro['package_name']}.{macro['name']})"
            found.append(f"macro docs: {where}: {'; '.join(problems)}")
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--manifest", type=Path, default=Path("target/manifest.json"))
    parser.add_argument(
        "--catalog",
        type=Path,
        help="catalog.json from `dbt docs generate`: also check the models' actual columns",
    )
    args = parser.parse_args(argv)
    manifest = load(args.manifest)
    catalog = load(args.catalog) if args.catalog else None
    models = sum(1 for n in manifest["nodes"].values() if n["resource_type"] == "model")
    macros = len(documented_macros(manifest))
    columns = "YAML-declared and actual (catalog)" if catalog else "YAML-declared"
    problems = offenders(manifest, catalog)
    if catalog is not None:
        unbuilt = sorted(
            n["name"]
            for uid, n in manifest["nodes"].items()
            if n["resource_type"] == "model" and uid not in catalog.get("nodes", {})
        )
        if unbuilt:
            print(f"governance: not in the catalog (not built?), columns YAML-only: {unbuilt}")
    if problems:
        print(
            f"governance: {len(problems)} problem(s) in {models} models ({columns} columns)"
            f" and {macros} macros:"
        )
        for line in problems:
            print(f"  {line}")
        return 1
    print(f"governance: {models} models and {macros} macros pass ({columns} columns checked)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
