"""Small file checks for pre-commit, run from the venv (GitHub hook repositories are unreachable).

python scripts/precommit_checks.py yaml FILE...    every file parses as YAML
python scripts/precommit_checks.py large FILE...   no file is over 500 KB
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

MAX_BYTES = 500 * 1024


def yaml_problems(paths: list[Path]) -> list[str]:
    problems = []
    for path in paths:
        try:
            list(yaml.safe_load_all(path.read_text()))
        except yaml.YAMLError as error:
            problems.append(f"{path}: not valid YAML: {error}".replace("\n", " "))
    return problems


def large_problems(paths: list[Path]) -> list[str]:
    return [
        f"{path}: {path.stat().st_size // 1024} KB, over {MAX_BYTES // 1024} KB: keep data out"
        for path in paths
        if path.is_file() and path.stat().st_size > MAX_BYTES
    ]


def main(argv: list[str]) -> int:
    checks = {"yaml": yaml_problems, "large": large_problems}
    if not argv or argv[0] not in checks:
        print(__doc__, file=sys.stderr)
        return 2
    problems = checks[argv[0]]([Path(name) for name in argv[1:]])
    for problem in problems:
        print(problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
