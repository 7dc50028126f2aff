"""The README's picture of `durable report`: the page opened in Debian's Chromium, headless.

    .venv/bin/durable report && .venv/bin/python scripts/report_screenshot.py

`make run` first gives it a history to draw. Chromium comes from `make setup-browser`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from playwright.sync_api import sync_playwright

PROJECT_DIR = Path(__file__).resolve().parent.parent
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]


def main(
    page: Annotated[Path, typer.Argument()] = PROJECT_DIR / "data" / "state" / "report.html",
    output: Annotated[Path, typer.Option()] = PROJECT_DIR / "docs" / "report.png",
    height: Annotated[int, typer.Option(help="Pixels of the page's top to keep.")] = 1500,
) -> None:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        try:
            tab = browser.new_page(viewport={"width": 1200, "height": height})
            tab.goto(page.resolve().as_uri())
            tab.wait_for_selector("#chart-runs .main-svg")
            tab.screenshot(path=str(output))
        finally:
            browser.close()
    print(f"wrote {output}")


if __name__ == "__main__":
    typer.run(main)
