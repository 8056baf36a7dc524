"""A real server on loopback with a small world, and Debian's Chromium driven headless by
Playwright. Playwright never downloads a browser here: scripts/chromium installs Debian's.

Every page a test opens records its requests; a request to any other origin fails the test.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from colloque.clock import SettableClock
from colloque.config import Settings
from colloque.storage.engine import Database
from colloque.web.app import create_app
from colloque.web.assets import ASSET_MANIFEST, DEFAULT_DIST_DIR
from colloque.worker import run_cycle
from tests.browser.booking_scene import Scene, running_scene
from tests.factories import World, build_world
from tests.server import running_server

CHROMIUM = Path(os.environ.get("COLLOQUE_TEST_CHROMIUM", "/usr/bin/chromium"))
AXE = DEFAULT_DIST_DIR.parent / "node_modules" / "axe-core" / "axe.min.js"


# Package scope: Playwright's sync API keeps an event loop running in this thread while it is
# open, and later tests that start their own loop (anyio.run) must not find it there.
@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    # Missing pieces fail, never skip: these tests are part of the suite, under CI too.
    if not CHROMIUM.is_file():
        pytest.fail(f"no Chromium at {CHROMIUM}: run scripts/chromium (scripts/test does)")
    if not (DEFAULT_DIST_DIR / ASSET_MANIFEST).is_file() or not AXE.is_file():
        pytest.fail("the web assets are not built: run scripts/web-build (scripts/test does)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox", "--disable-gpu"]
        )
        yield launched
        launched.close()


@dataclass
class Site:
    url: str
    world: World
    db: Database
    clock: SettableClock
    requests: list[str] = field(default_factory=list)

    @property
    def practitioner_path(self) -> str:
        return f"/practitioners/{self.world.practice_id}/{self.world.practitioner_id}"


@pytest.fixture
def site(sqlite_db: Database, clock: SettableClock) -> Iterator[Site]:
    world = build_world(sqlite_db, clock)
    run_cycle(sqlite_db, clock, batch=100)
    app = create_app(Settings(run_refresher=False), database=sqlite_db, clock=clock)
    with running_server(app) as url:
        yield Site(url, world, sqlite_db, clock)


@pytest.fixture
def context(browser: Browser, site: Site) -> Iterator[BrowserContext]:
    context = browser.new_context(locale="fr-FR", timezone_id="America/New_York")
    # The browser's own zone is not the practice's: the picker must group days by the practice's.
    context.on("request", lambda request: site.requests.append(request.url))
    yield context
    context.close()
    foreign = [url for url in site.requests if not url.startswith(site.url + "/")]
    assert not foreign, f"requests left for another origin: {foreign}"


@pytest.fixture
def page(context: BrowserContext) -> Page:
    page = context.new_page()
    page.set_default_timeout(10_000)
    return page


@pytest.fixture
def scene(
    request: pytest.FixtureRequest, sqlite_db: Database, clock: SettableClock
) -> Iterator[Scene]:
    """The booking scene (booking_scene.py); ``indirect`` with False: a group key no admin signed."""
    with running_scene(sqlite_db, clock, signed=getattr(request, "param", True)) as made:
        yield made


@pytest.fixture
def contexts(scene: Scene) -> Iterator[list[BrowserContext]]:
    opened: list[BrowserContext] = []
    yield opened
    for context in opened:
        context.close()
    foreign = [url for url in scene.requests if not url.startswith(scene.url + "/")]
    assert not foreign, f"requests left for another origin: {foreign}"
