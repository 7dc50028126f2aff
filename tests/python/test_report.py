"""`durable report`: one HTML page, opened in Debian's Chromium (headless) as a person would open
it from disk. Its charts are drawn from a real ledger with a failure in it, a quarantine, an
overdue delivery and a verify result; nothing is fetched from anywhere; nothing logs an error."""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

from durable.errors import ExitCode
from durable.ledger import Ledger, VerifyRow, record_verification
from jaffle_simulator import COLUMNS, DeliveryPlan
from test_runner import durable, land_with_unknown_product, settings_for

pytestmark = pytest.mark.slow
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# As a closed network needs it: no background requests of Chromium's own.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
CHARTS = ("runs", "windows", "rows", "quarantine", "overdue", "verify")


@pytest.fixture(scope="module")
def page_file(jafgen_cache: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The report of a short history: two days published with a row quarantined, one failed
    audit, a verify that found drift, and the third day overdue."""
    root = tmp_path_factory.mktemp("report")
    plan = DeliveryPlan.build(seed=11, days=4, cache_dir=jafgen_cache)
    days = plan.delivery_dates
    settings = settings_for(root)
    plan.land(settings.landing_dir, through=days[1])
    bad = settings.landing_dir / "orders" / f"dt={days[1]}" / "part-0009.csv"
    stamp = f"{days[1]}T11:00:00"
    bad.write_text(
        ",".join(COLUMNS["orders"]) + f"\nbad-1,c-1,{stamp},s-1,lots,0,0,placed,{stamp}\n"
    )
    clock = {"DURABLE_NOW": f"{days[2] + timedelta(days=1)}T09:00:00Z"}
    assert durable(settings, "run", **clock).returncode == ExitCode.OK
    land_with_unknown_product(plan, settings.landing_dir, days[3])
    assert durable(settings, "run", **clock).returncode == ExitCode.AUDIT_FAILED
    ledger = Ledger(settings.ledger_path)
    try:
        drift = {"analytics.fct_orders": {"rows": [476, 477], "keys": ["order-1"]}}
        record_verification(
            ledger,
            VerifyRow(
                "v1",
                "whole history",
                "2026-12-06T05:00:00+00:00",
                "2026-12-06T05:01:00+00:00",
                "drift",
                7,
                26,
                drift,
                None,
            ),
        )
    finally:
        ledger.close()
    page = root / "report.html"
    written = durable(settings, "report", "--output", str(page), **clock)
    assert written.returncode == 0, written.stderr
    return page


def test_the_report_draws_every_chart_offline_without_errors(page_file: Path) -> None:
    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is missing: `make setup-browser` installs Debian's package")
    problems: list[str] = []
    requests: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda error: problems.append(str(error)))
            page.on("request", lambda request: requests.append(request.url))
            page.goto(page_file.as_uri())
            page.wait_for_load_state("load")
            for key in CHARTS:
                chart = page.locator(f"#chart-{key}")
                assert chart.count() == 1, f"no {key} chart"
                # Plotly drew it: its SVG holds at least one trace with marks.
                marks = chart.locator("g.trace path, g.trace .point")
                assert marks.count() > 0, f"the {key} chart has no marks"
            failures = page.locator("#failures").inner_text()
            assert "relationships" in failures or "tests" in failures, failures
            title = page.locator("#chart-runs .gtitle").text_content() or ""
            assert title.startswith("Runs")
        finally:
            browser.close()
    assert problems == []
    assert [url for url in requests if not url.startswith("file:")] == []
