"""The pages over the demo's data (many practices, accented names, real agendas), as a person
trying the demo would use them: the README's physiotherapist, found and opened in the browser."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, expect

from colloque.clock import SettableClock
from colloque.config import Settings
from colloque.web.app import create_app
from tests.browser.conftest import AXE
from tests.server import running_server
from tests.unit.demo.support import DEMO_NOW, make_demo

pytestmark = pytest.mark.browser


@pytest.fixture
def demo_url(tmp_path: Path) -> Iterator[str]:
    demo = make_demo(tmp_path / "demo.sqlite3")
    app = create_app(
        Settings(run_refresher=False, data_dir=tmp_path),
        database=demo.db,
        clock=SettableClock(DEMO_NOW),
    )
    try:
        with running_server(app) as url:
            yield url
    finally:
        demo.db.dispose()


def test_the_readme_physiotherapist_in_the_browser(browser: Browser, demo_url: str) -> None:
    context = browser.new_context(locale="fr-FR")
    requests: list[str] = []
    context.on("request", lambda request: requests.append(request.url))
    context.add_init_script(path=AXE)
    try:
        page = context.new_page()
        page.goto(demo_url + "/?lang=en")
        page.select_option("#specialty", "physiotherapy")
        page.fill("#where", "Paris")
        page.fill("#name", "Garnier")
        page.press("#name", "Enter")
        expect(page.locator("ol.results > li").first).to_be_visible()
        page.locator("ol.results h3 a", has_text="Garnier").first.click()
        expect(page.locator("h1")).to_contain_text("Garnier")
        expect(page.locator("#picker-visit-type")).to_be_visible()
        picker = page.locator("#picker-visit-type")
        wanted = picker.locator("option", has_text="Séance de kinésithérapie").first
        picker.select_option(wanted.get_attribute("value"))
        expect(page.locator("[data-testid=slot-days] time").first).to_be_visible()
        expect(page.get_by_role("status")).to_contain_text("this week")
        result: dict[str, Any] = page.evaluate(
            "() => axe.run(document, { runOnly: { type: 'tag', values: "
            "['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'] } })"
        )
        serious = [v["id"] for v in result["violations"] if v["impact"] in ("serious", "critical")]
        assert not serious
    finally:
        context.close()
    assert all(url.startswith(demo_url + "/") for url in requests)
