"""docs/BENCHMARKS.md and its chart, from a run's results.

The page mixes measured figures with prose written by hand. The report rewrites only the parts
between the page's markers,

    <!-- BEGIN GENERATED <name>: ... -->
    ...
    <!-- END GENERATED <name> -->

and keeps everything around them as it is, so re-running the benchmark refreshes the figures
without losing what was learnt from them.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from .catchup import catchup_section
from .chart import draw_chart
from .findings import targets_section, time_now_section
from .summary import summarize
from .tables import measured_section

PROJECT_DIR = Path(__file__).resolve().parents[2]
PAGE = PROJECT_DIR / "docs" / "BENCHMARKS.md"
CHART = PROJECT_DIR / "docs" / "benchmark_incremental.png"
_SECTION = re.compile(
    r"^<!-- BEGIN GENERATED (?P<name>[\w-]+)\b[^\n]*-->\n.*?^<!-- END GENERATED (?P=name) -->$",
    re.MULTILINE | re.DOTALL,
)


class PageError(ValueError):
    """The page lacks a marked section the report must write."""


def _begin(name: str) -> str:
    return f"<!-- BEGIN GENERATED {name}: scripts/benchmark.py rewrites this part -->"


def _end(name: str) -> str:
    return f"<!-- END GENERATED {name} -->"


def replace_sections(page: str, sections: dict[str, list[str]]) -> str:
    """`page` with each marked section's content replaced by its new lines.

    A section of `sections` the page does not mark is an error rather than a figure silently
    left out; a marked section the report no longer writes is left as it is.
    """
    missing = set(sections) - {match["name"] for match in _SECTION.finditer(page)}
    if missing:
        raise PageError(
            f"the page has no {', '.join(sorted(missing))} section: mark where it goes with "
            + ", ".join(f"'{_begin(name)}' ... '{_end(name)}'" for name in sorted(missing))
        )

    def rewrite(match: re.Match[str]) -> str:
        name = match["name"]
        if name not in sections:
            return match[0]
        # Blank lines inside the markers keep the comments apart from the Markdown around them.
        return "\n".join([_begin(name), "", *sections[name], "", _end(name)])

    return _SECTION.sub(rewrite, page)


def write_report(
    results: dict[str, Any], docs: Path, chart: Path, template: Path = PAGE
) -> dict[str, Any]:
    """Draw the chart and rewrite the generated parts of `docs`; return the summary.

    A page that does not exist yet starts from `template` (the repository's page), so a report
    written elsewhere (a test, a trial run) still carries the hand-written prose.
    """
    summary = summarize(results)
    draw_chart(results, chart)
    sections = {
        "measurements": measured_section(results, summary, chart, docs),
        "targets": targets_section(summary, results),
        "time-now": time_now_section(summary, results),
    }
    if "catchup" in results:
        sections["catch-up"] = catchup_section(results["catchup"])
    write_sections(sections, docs, template)
    return summary


def write_sections(sections: dict[str, list[str]], docs: Path, template: Path = PAGE) -> None:
    """Rewrite these generated parts of `docs` (a new page starts from `template`)."""
    page = (docs if docs.exists() else template).read_text()
    docs.parent.mkdir(parents=True, exist_ok=True)
    docs.write_text(replace_sections(page, sections))
