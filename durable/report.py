"""`durable report`: one self-contained HTML page of the pipeline's life.

From the ledger (runs, windows, verifications), production's quarantine (durable/quarantine.py)
and the landing zone (what is overdue), it draws with Plotly: runs over time with their duration
and outcome, windows with their attempts, rows changed per model, quarantine by reason over time,
overdue deliveries and `durable verify` results. Plotly's script and the page's styles are inline:
the file opens from disk, with no server and no request to the internet.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import plotly.graph_objects as go
from jinja2 import Environment

from durable import clock
from durable.config import Settings
from durable.ledger import Ledger, VerifyRow, WindowRow, verifications
from durable.overdue import OverdueDelivery, overdue_deliveries
from durable.quarantine import QuarantineGroup, quarantine
from durable.sources import load_source_tables
from durable.windows import landing_zone

HISTORY = 1000  # runs and windows drawn, the newest
COLOURS = {
    "succeeded": "#2e7d32",
    "published": "#2e7d32",
    "clean": "#2e7d32",
    "failed": "#c62828",
    "drift": "#c62828",
    "crashed": "#6a1b9a",
    "rolled back": "#ef6c00",
    "running": "#1565c0",
}


@dataclass
class ReportData:
    runs: list[
        tuple
    ]  # Ledger.runs: id, command, started, finished, state, exit code, failure, retries
    windows: list[WindowRow]
    verifications: list[VerifyRow]
    quarantine: list[QuarantineGroup] = field(default_factory=list)
    overdue: list[OverdueDelivery] = field(default_factory=list)
    unread: list[str] = field(default_factory=list)  # what could not be read, and why


def gather(settings: Settings) -> ReportData:
    """The ledger always; production's quarantine and the landing zone when they can be read."""
    ledger = Ledger(settings.ledger_path)
    try:
        data = ReportData(
            ledger.runs(HISTORY), ledger.windows(HISTORY), verifications(ledger, HISTORY)
        )
    finally:
        ledger.close()
    try:
        data.quarantine = quarantine(settings).groups
    except Exception as error:  # noqa: BLE001 - the page still shows the ledger
        data.unread.append(f"quarantine: {str(error).splitlines()[0]}")
    try:
        tables = load_source_tables(settings.project_dir)
        deliveries, _ = landing_zone(settings, tables)
        data.overdue = overdue_deliveries(tables, deliveries, clock.now())
    except Exception as error:  # noqa: BLE001
        data.unread.append(f"landing zone: {str(error).splitlines()[0]}")
    return data


def _seconds(started: str, finished: str | None) -> float | None:
    if not finished:
        return None
    return (datetime.fromisoformat(finished) - datetime.fromisoformat(started)).total_seconds()


def _layout(figure: go.Figure, title: str, y: str) -> go.Figure:
    figure.update_layout(
        title=title,
        yaxis_title=y,
        template="plotly_white",
        height=360,
        margin={"l": 60, "r": 20, "t": 50, "b": 40},
        legend={"orientation": "h", "y": -0.2},
    )
    return figure


def runs_figure(runs: list[tuple]) -> go.Figure | None:
    if not runs:
        return None
    figure = go.Figure()
    for state in sorted({run[4] for run in runs}):
        chosen = [run for run in runs if run[4] == state]
        figure.add_trace(
            go.Scatter(
                x=[run[2] for run in chosen],
                y=[_seconds(run[2], run[3]) for run in chosen],
                mode="markers",
                name=state,
                marker={"color": COLOURS.get(state, "#455a64"), "size": 9},
                text=[
                    f"{run[0]} {run[1]}<br>exit {run[5]}, {run[7]} transient retries"
                    + (f"<br>{run[6][:120]}" if run[6] else "")
                    for run in chosen
                ],
                hoverinfo="x+y+text",
            )
        )
    return _layout(figure, "Runs: duration and outcome", "seconds")


def windows_figure(windows: list[WindowRow]) -> go.Figure | None:
    days = [w for w in windows if w.kind == "deliveries"]
    if not days:
        return None
    figure = go.Figure()
    for state in sorted({w.state for w in days}):
        chosen = [w for w in days if w.state == state]
        figure.add_trace(
            go.Bar(
                x=[str(w.window_start) for w in chosen],
                y=[w.attempts for w in chosen],
                name=state,
                marker_color=COLOURS.get(state, "#455a64"),
                hovertext=[
                    f"run {w.run_id}, {w.tests_passed or 0} tests passed, "
                    f"{w.tests_failed or 0} failed"
                    + (f"<br>{w.failure[:120]}" if w.failure else "")
                    for w in chosen
                ],
                hoverinfo="x+y+text",
            )
        )
    figure.update_layout(barmode="group")
    return _layout(figure, "Windows: attempts per day, by outcome", "attempts")


def rows_changed_figure(windows: list[WindowRow]) -> go.Figure | None:
    # The days of one batch share their build's figures: count the build once.
    builds: dict[tuple[str, str], dict[str, int]] = {}
    for w in sorted(windows, key=lambda w: w.window_start):
        if w.state == "published" and w.rows_changed:
            builds.setdefault((w.run_id, w.batch or str(w.window_start)), w.rows_changed)
    if not builds:
        return None
    labels = [label for _, label in builds]
    models = sorted({model for changed in builds.values() for model in changed})
    figure = go.Figure(
        [
            go.Bar(x=labels, y=[changed.get(model, 0) for changed in builds.values()], name=model)
            for model in models
        ]
    )
    figure.update_layout(barmode="stack")
    return _layout(figure, "Rows changed per model, per published window", "rows")


def quarantine_figure(groups: list[QuarantineGroup]) -> go.Figure | None:
    if not groups:
        return None
    rows: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for group in groups:
        rows[f"{group.status}: {group.reason}"][group.delivery_date] += group.rows
    figure = go.Figure(
        [
            go.Bar(x=list(by_day), y=list(by_day.values()), name=reason[:60])
            for reason, by_day in sorted(rows.items())
        ]
    )
    figure.update_layout(barmode="stack")
    return _layout(figure, "Quarantine by reason, per delivery date", "rows")


def overdue_figure(overdue: list[OverdueDelivery]) -> go.Figure | None:
    if not overdue:
        return None
    names = sorted({f"{o.source}.{o.table}" for o in overdue})
    figure = go.Figure(
        [
            go.Scatter(
                x=[str(o.day) for o in overdue if f"{o.source}.{o.table}" == name],
                y=[
                    round(o.late_by.total_seconds() / 3600, 1)
                    for o in overdue
                    if f"{o.source}.{o.table}" == name
                ],
                mode="markers",
                name=name,
            )
            for name in names
        ]
    )
    return _layout(figure, "Overdue deliveries: hours late, per delivery date", "hours late")


def verify_figure(checks: list[VerifyRow]) -> go.Figure | None:
    if not checks:
        return None
    figure = go.Figure()
    for state in sorted({check.state for check in checks}):
        chosen = [check for check in checks if check.state == state]
        figure.add_trace(
            go.Scatter(
                x=[check.started_at for check in chosen],
                y=[len(check.relations_drifted) for check in chosen],
                mode="markers",
                name=state,
                marker={"color": COLOURS.get(state, "#455a64"), "size": 10},
                text=[f"{check.scope}: {check.relations_checked} relations" for check in chosen],
                hoverinfo="x+y+text",
            )
        )
    return _layout(figure, "durable verify: relations that drifted", "relations")


SECTIONS = (
    ("runs", "Runs", runs_figure, "runs", "No run yet."),
    ("windows", "Windows", windows_figure, "windows", "No delivery window yet."),
    ("rows", "Rows changed", rows_changed_figure, "windows", "No published window yet."),
    ("quarantine", "Quarantine", quarantine_figure, "quarantine", "Nothing held back."),
    ("overdue", "Overdue deliveries", overdue_figure, "overdue", "Nothing overdue."),
    ("verify", "Verify", verify_figure, "verifications", "`durable verify` has not run yet."),
)

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>durable: {{ project }}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 1100px; color: #222; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.15rem; margin-top: 2rem; }
.empty { color: #666; } .unread { color: #c62828; }
table { border-collapse: collapse; font-size: 0.9rem; }
td, th { border-bottom: 1px solid #ddd; padding: 0.25rem 0.6rem; text-align: left; }
</style></head><body>
<h1>durable: {{ project }}</h1>
<p>Written {{ written }} from the ledger ({{ runs }} runs, {{ windows }} window rows).</p>
{% for problem in unread %}<p class="unread">Not read: {{ problem }}</p>{% endfor %}
{% for section in sections %}
<section id="{{ section.key }}"><h2>{{ section.title }}</h2>
{% if section.chart %}{{ section.chart | safe }}{% else %}
<p class="empty">{{ section.empty }}</p>{% endif %}</section>
{% endfor %}
<section id="failures"><h2>Latest failures</h2>
{% if failures %}<table><tr><th>run</th><th>window</th><th>state</th><th>failure</th></tr>
{% for w in failures %}<tr><td>{{ w.run_id }}</td><td>{{ w.window_start }}</td>
<td>{{ w.state }}</td><td>{{ w.failure or "" }}</td></tr>{% endfor %}</table>
{% else %}<p class="empty">None.</p>{% endif %}</section>
</body></html>
"""


def render(data: ReportData, project: str) -> str:
    """The page: Plotly's script inline once, before the first chart."""
    sections, script_written = [], False
    for key, title, draw, attribute, empty in SECTIONS:
        figure = draw(getattr(data, attribute))
        chart = None
        if figure is not None:
            chart = figure.to_html(
                full_html=False,
                include_plotlyjs=not script_written,
                div_id=f"chart-{key}",
                config={"displaylogo": False, "responsive": True},
            )
            script_written = True
        sections.append({"key": key, "title": title, "chart": chart, "empty": empty})
    failures = [w for w in data.windows if w.state in ("failed", "crashed")][:20]
    return (
        Environment(autoescape=True)
        .from_string(PAGE)
        .render(
            project=project,
            written=clock.now().isoformat(timespec="seconds"),
            runs=len(data.runs),
            windows=len(data.windows),
            unread=data.unread,
            sections=sections,
            failures=failures,
        )
    )


def write_report(settings: Settings, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(gather(settings), settings.project_dir.name), encoding="utf-8")
    return path
