"""The screenshots in docs/screenshots/: the main pages in French, desktop and mobile, over the
test world on a fixed clock (so that they change only when the pages do).

    uv run python -m tests.browser.screenshots     # after scripts/web-build; or scripts/web-screenshots
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from playwright.sync_api import expect, sync_playwright

from colloque.clock import SettableClock
from colloque.config import Settings
from colloque.storage.engine import Database
from colloque.storage.migrate import upgrade
from colloque.web.app import create_app
from colloque.worker import run_cycle
from tests.browser.conftest import CHROMIUM
from tests.conftest import T0
from tests.factories import build_world
from tests.server import running_server

SIZES = {"desktop": (1280, 900), "mobile": (390, 844)}


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as work:
        url = f"sqlite:///{Path(work) / 'shots.sqlite3'}"
        upgrade(url)
        db, clock = Database(url), SettableClock(T0)
        world = build_world(db, clock)
        run_cycle(db, clock, batch=100)
        app = create_app(
            Settings(run_refresher=False, data_dir=Path(work)), database=db, clock=clock
        )
        pages = {
            "home": "/",
            "search": "/search?specialty=general_practice&where=Paris",
            "practitioner": f"/practitioners/{world.practice_id}/{world.practitioner_id}",
        }
        with running_server(app) as base, sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox", "--disable-gpu"]
            )
            for size, (width, height) in SIZES.items():
                context = browser.new_context(
                    viewport={"width": width, "height": height}, locale="fr-FR"
                )
                page = context.new_page()
                for name, path in pages.items():
                    page.goto(base + path)
                    if name == "practitioner":
                        expect(page.locator("#picker-visit-type")).to_be_visible()
                    page.screenshot(path=str(out / f"{name}-{size}.png"), full_page=True)
                context.close()
            browser.close()
        db.dispose()


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("docs/screenshots"))
