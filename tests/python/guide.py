"""The worked examples of CONTRIBUTING.md, read as the analyst reads them and applied to a copy
of the project, so the guide cannot drift from what works.

A code block is applied when the line before its fence is a marker, an HTML comment that
Markdown does not render:

    <!-- apply: <file> [<file> ...], <action> -->   then the block
    <!-- run -->                                     then a block of shell commands

Actions: `create` (a new file), `replace` (the whole file), `append-under: "<line>"` (at the end
of what is indented under the first line that starts with <line>), `insert-after: "<line>"` (after
the first line that starts with <line>, and what is indented under it). Lines are compared with
their indentation stripped. Blocks belong to the `## ` section they appear in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

MARKER = re.compile(r"^<!--\s*(?P<kind>apply|run)\s*(?::\s*(?P<spec>.*?))?\s*-->$")
SPEC = re.compile(r'^(?P<files>[^,]+),\s*(?P<action>[\w-]+)(?::\s*"(?P<anchor>.*)")?$')
ACTIONS = ("create", "replace", "append-under", "insert-after")


@dataclass(frozen=True)
class Block:
    section: str  # the `## ` heading the block is under
    kind: str  # apply | run
    files: tuple[str, ...]
    action: str
    anchor: str | None
    code: str

    def __str__(self) -> str:
        return f"[{self.section}] {self.kind} {' '.join(self.files)} {self.action} {self.anchor}"


def blocks(guide: Path) -> list[Block]:
    """Every marked block of the guide, in order."""
    lines = guide.read_text().splitlines()
    found: list[Block] = []
    section = ""
    for number, line in enumerate(lines):
        if line.startswith("## "):
            section = line[3:].strip()
        marker = MARKER.match(line.strip())
        if not marker:
            continue
        fence = lines[number + 1] if number + 1 < len(lines) else ""
        assert fence.startswith("```"), f"line {number + 1}: a marker must precede a code fence"
        end = next(i for i in range(number + 2, len(lines)) if lines[i].startswith("```"))
        code = "\n".join(lines[number + 2 : end]) + "\n"
        files: tuple[str, ...] = ()
        action, anchor = "run", None
        if marker["kind"] == "apply":
            spec = SPEC.match(marker["spec"] or "")
            assert spec and spec["action"] in ACTIONS, f"line {number + 1}: bad marker {line!r}"
            files, action, anchor = tuple(spec["files"].split()), spec["action"], spec["anchor"]
        found.append(Block(section, marker["kind"], files, action, anchor, code))
    return found


def section_blocks(guide: Path, heading_start: str) -> list[Block]:
    """The marked blocks of the section whose heading starts with `heading_start`."""
    chosen = [b for b in blocks(guide) if b.section.startswith(heading_start)]
    assert chosen, f"no marked block under a heading starting {heading_start!r}"
    return chosen


def apply(block: Block, project: Path) -> list[Path]:
    """Apply one `apply` block to the project; the files it changed."""
    changed = []
    for name in block.files:
        path = project / name
        if block.action == "create":
            assert not path.exists(), f"{block}: {name} exists already"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(block.code)
        elif block.action == "replace":
            assert path.exists(), f"{block}: {name} does not exist"
            path.write_text(block.code)
        else:
            path.write_text(_insert(path.read_text(), block))
        changed.append(path)
    return changed


def _insert(text: str, block: Block) -> str:
    lines = text.splitlines(keepends=True)
    anchor = next(
        (i for i, line in enumerate(lines) if line.strip().startswith(block.anchor or "\0")),
        None,
    )
    assert anchor is not None, f"{block}: no line starts with {block.anchor!r}"
    depth = _indent(lines[anchor])
    end = anchor + 1  # past the anchor's last non-blank child line
    for i in range(anchor + 1, len(lines)):
        if lines[i].strip() and _indent(lines[i]) <= depth:
            break
        if lines[i].strip():
            end = i + 1
    code = block.code
    if block.action == "append-under" and any(not ln.strip() for ln in lines[anchor + 1 : end]):
        code = "\n" + code  # the section separates its entries with blank lines: so does this
    return "".join(lines[:end]) + code + "".join(lines[end:])


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())
