"""The search page in a real browser: "near me" with the position granted (rounded to about 1 km
before it leaves the page) and refused (a message, and the form still searches by city), the
filters without JavaScript, and axe-core on the results with the filters open."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.browser.conftest import AXE, Site

pytestmark = pytest.mark.browser

#: A precise position a few metres from the world's practice (12 rue de la Paix, Paris).
HERE = {"latitude": 48.868612, "longitude": 2.331409}
WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]


@contextmanager
def _context(browser: Browser, site: Site, **options: Any) -> Iterator[BrowserContext]:
    context = browser.new_context(locale="fr-FR", **options)
    context.on("request", lambda request: site.requests.append(request.url))
    yield context
    context.close()
    foreign = [url for url in site.requests if not url.startswith(site.url + "/")]
    assert not foreign, f"requests left for another origin: {foreign}"


@pytest.fixture
def granted(browser: Browser, site: Site) -> Iterator[BrowserContext]:
    with _context(browser, site, geolocation=HERE, permissions=["geolocation"]) as context:
        yield context


@pytest.fixture
def refused(browser: Browser, site: Site) -> Iterator[BrowserContext]:
    # No permission granted: the browser answers the page's request with a refusal.
    with _context(browser, site, geolocation=HERE) as context:
        yield context


def _page(context: BrowserContext) -> Page:
    page = context.new_page()
    page.set_default_timeout(10_000)
    return page


def test_near_me_sends_a_rounded_position_and_sorts_by_distance(
    granted: BrowserContext, site: Site
) -> None:
    page = _page(granted)
    page.goto(site.url + "/")
    page.select_option("#specialty", "general_practice")
    page.fill("#where", "Lyon")
    with page.expect_navigation():
        page.get_by_role("button", name="Autour de moi").click()
    expect(page).to_have_url(re.compile(r"/search\?"))
    query = page.url.split("?", 1)[1]
    assert "latitude=48.87" in query
    assert "longitude=2.33" in query
    assert "sort=distance" in query
    assert "specialty=general_practice" in query
    # The position replaced the typed city, which would have found nobody near it.
    assert "Lyon" not in query
    # The precise position never left the page, in any request.
    assert not [url for url in site.requests if "48.8686" in url or "2.3314" in url]
    expect(page.locator("ol.results h3")).to_have_text(["Dr Claire Martin"])
    expect(page.locator(".result .distance")).to_have_text("À 0,2 km")
    expect(page.locator("#sort-distance")).to_be_checked()
    expect(page.locator("input[type=hidden][name=latitude]")).to_have_value("48.87")
    expect(page.get_by_text("Autour de votre position, à 25 km au plus")).to_be_visible()

    # Forgetting the position goes back to the same search without it.
    page.get_by_role("link", name="Chercher sans ma position").click()
    expect(page).not_to_have_url(re.compile("latitude"))
    expect(page.locator("#sort-earliest")).to_be_checked()
    expect(page.locator("input[name=latitude]")).to_have_count(0)


def test_a_refused_position_says_so_and_the_form_still_searches_by_city(
    refused: BrowserContext, site: Site
) -> None:
    page = _page(refused)
    page.goto(site.url + "/?lang=en")
    page.select_option("#specialty", "general_practice")
    button = page.get_by_role("button", name="Near me")
    button.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_have_text(
        "You did not allow access to your position: type a city or postcode instead."
    )
    expect(page).to_have_url(re.compile(r"/\?lang=en$"))
    expect(button).to_be_enabled()
    expect(page.locator("input[name=latitude]")).to_have_count(0)
    page.fill("#where", "Paris")
    with page.expect_navigation():
        page.get_by_role("button", name="Search").click()
    expect(page).to_have_url(re.compile(r"where=Paris"))
    expect(page.locator("ol.results h3")).to_have_text(["Dr Claire Martin"])


def test_without_javascript_there_is_no_near_me_and_the_filters_work(
    browser: Browser, site: Site
) -> None:
    with _context(browser, site, java_script_enabled=False) as context:
        _search_without_javascript(_page(context), site.url)


def _search_without_javascript(page: Page, url: str) -> None:
    page.goto(url + "/")
    expect(page.get_by_role("button", name="Autour de moi")).to_have_count(0)
    page.select_option("#specialty", "general_practice")
    page.fill("#where", "Paris")
    page.get_by_text("Plus de filtres").click()
    page.get_by_label("Propose la téléconsultation (vidéo)").check()
    page.select_option("#language", "en")
    page.get_by_role("button", name="Rechercher").click()
    expect(page).to_have_url(re.compile(r"mode=video.*language=en|language=en.*mode=video"))
    expect(page.locator("ol.results h3")).to_have_text(["Dr Claire Martin"])
    expect(page.locator("details.filters")).to_have_attribute("open", "")
    expect(page.get_by_label("Propose la téléconsultation (vidéo)")).to_be_checked()
    # Distance without a position: the form says why, next to the choice.
    page.get_by_label("Distance").check()
    page.get_by_role("button", name="Rechercher").click()
    expect(page.locator("#sort-error")).to_contain_text("utilisez «\u00a0Autour de moi\u00a0»")
    expect(page.locator("#sort-distance")).to_have_attribute("aria-invalid", "true")


def _serious(page: Page) -> list[tuple[str, str]]:
    result: dict[str, Any] = page.evaluate(
        "tags => axe.run(document, { runOnly: { type: 'tag', values: tags } })", WCAG
    )
    assert result["passes"], "axe checked nothing: is it loaded?"
    return [
        (v["id"], v["help"]) for v in result["violations"] if v["impact"] in ("serious", "critical")
    ]


@pytest.mark.parametrize("language", ["fr", "en"])
def test_the_results_with_filters_open_have_no_serious_accessibility_violation(
    refused: BrowserContext, site: Site, language: str
) -> None:
    refused.add_init_script(path=AXE)
    page = _page(refused)
    for path in (
        "/search?specialty=general_practice&where=Paris&mode=video&language=en&new_patients=true",
        "/search?specialty=general_practice&latitude=48.87&longitude=2.33&sort=distance",
        "/search?specialty=general_practice&where=Paris&sort=distance",
        "/search?specialty=general_practice&language=xx",
    ):
        page.goto(f"{site.url}{path}&lang={language}")
        page.locator("details.filters").evaluate("details => { details.open = true; }")
        expect(page.locator("#visit_type")).to_be_visible()
        assert not _serious(page), path
    # Folded filters opened by hand, and the near-me message shown.
    page.goto(f"{site.url}/search?specialty=general_practice&where=Paris&lang={language}")
    page.locator("details.filters summary").click()
    expect(page.locator("#visit_type")).to_be_visible()
    page.locator(".near-me-button").click()
    expect(page.get_by_role("status")).not_to_be_empty()
    assert not _serious(page)
