"""A real server on loopback with a small world, and Debian's Chromium driven headless by
Playwright. Playwright never downloads a browser here: scripts/chromium installs Debian's.

Every page a test opens records its requests; a request to any other origin fails the test.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

from colloque.clock import SettableClock
from colloque.config import Settings
from colloque.storage.engine import Database
from colloque.web.app import create_app
from colloque.web.assets import ASSET_MANIFEST, DEFAULT_DIST_DIR
from colloque.worker import run_cycle
from tests.browser.scene import Scene, open_scene
from tests.factories import World, build_world
from tests.server import running_server
from tests.smtp import Inbox, running_inbox

CHROMIUM = Path(os.environ.get("COLLOQUE_TEST_CHROMIUM", "/usr/bin/chromium"))
AXE = DEFAULT_DIST_DIR.parent / "node_modules" / "axe-core" / "axe.min.js"
#: WCAG 2.2 A and AA, as axe-core tags its rules.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]

# Assertions wait up to 15 s, not Playwright's 5: the suite shares two cores between two test
# workers, PostgreSQL and the browsers, and a page that derives a key (Argon2id in its crypto
# worker) before it draws was seen to take longer than 5 s there. A passing test waits no longer.
expect.set_options(timeout=15_000)


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
    # A first navigation loads the app's bundle and, on a practice page, its crypto worker: under
    # a loaded machine (CI shares two cores with PostgreSQL and the other worker's browser) it
    # was seen to pass 10 s. A page that loads waits no longer.
    page.set_default_navigation_timeout(30_000)
    return page


def serious_violations(page: Page, within: str | None = None) -> list[dict[str, Any]]:
    """axe-core's serious and critical WCAG 2.2 A/AA violations on the page as it is now, or in
    the element ``within`` selects. axe comes from an init script, or is evaluated here through
    the DevTools protocol (the page's CSP stays on either way)."""
    if not page.evaluate("() => typeof axe !== 'undefined'"):
        page.evaluate(AXE.read_text())
    result: dict[str, Any] = page.evaluate(
        "([tags, within]) => axe.run(within === null ? document : document.querySelector(within),"
        " { runOnly: { type: 'tag', values: tags } })",
        [AXE_TAGS, within],
    )
    assert result["passes"], "axe checked nothing: is it loaded?"
    return [v for v in result["violations"] if v["impact"] in ("serious", "critical")]


@pytest.fixture
def inbox() -> Iterator[Inbox]:
    with running_inbox() as box:
        yield box


@pytest.fixture
def scene(
    request: pytest.FixtureRequest, sqlite_db: Database, clock: SettableClock, inbox: Inbox
) -> Iterator[Scene]:
    """A practice that seals (see tests/browser/scene.py); ``signed=False`` as the parameter
    makes its key group one that no admin signed; a dict as the parameter gives open_scene's
    options (``{"with_group": False}``: no key group at all)."""
    param = getattr(request, "param", True)
    options: dict[str, bool] = param if isinstance(param, dict) else {"signed": param}
    with open_scene(sqlite_db, clock, inbox, **options) as opened:
        yield opened


@pytest.fixture
def contexts(browser: Browser, scene: Scene) -> Iterator[list[BrowserContext]]:
    """Browser contexts a test opens on the scene, closed after it; none may have left for
    another origin."""
    opened: list[BrowserContext] = []
    yield opened
    for context in opened:
        context.close()
    # A Blob URL a page made (a decrypted document) is of its own origin too.
    own = (scene.url + "/", f"blob:{scene.url}/")
    foreign = [url for url in scene.requests if not url.startswith(own)]
    assert not foreign, f"requests left for another origin: {foreign}"
