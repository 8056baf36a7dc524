"""The public pages in a real browser: search, a practitioner's page and its slot picker, the
CSP, accessibility (axe-core, WCAG 2.2 A and AA), the keyboard, and JavaScript off."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import httpx2
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Route, expect

from tests.browser.conftest import AXE, Site, serious_violations

pytestmark = pytest.mark.browser

PARIS = ZoneInfo("Europe/Paris")


def _api_slots(site: Site, visit_type_id: object, week: str) -> list[str]:
    world = site.world
    answer = httpx2.get(
        f"{site.url}/api/v1/practices/{world.practice_id}/practitioners/{world.practitioner_id}/slots",
        params={"visit_type_id": str(visit_type_id), "from": week, "days": 7},
    )
    return [datetime.fromisoformat(slot["starts_at"]).isoformat() for slot in answer.json()]


def _shown_slots(page: Page) -> list[str]:
    shown: list[str] = page.locator("[data-testid=slot-days] time").evaluate_all(
        "nodes => nodes.map(n => n.getAttribute('datetime'))"
    )
    return shown


def _instants(values: list[str]) -> list[datetime]:
    return [datetime.fromisoformat(value).astimezone(PARIS) for value in values]


def test_search_then_the_practitioner_then_the_picker_changes_visit_type_and_week(
    page: Page, site: Site
) -> None:
    page.goto(site.url + "/")
    page.select_option("#specialty", "general_practice")
    page.fill("#where", "Paris")
    page.click("form.search button[type=submit]")
    expect(page).to_have_url(re.compile(r"/search\?specialty=general_practice&where=Paris"))
    page.click("ol.results h3 a")
    expect(page.locator("h1")).to_have_text("Dr Claire Martin")
    # The island replaced the server-rendered form with its own controls.
    picker = page.locator("#picker-visit-type")
    expect(picker).to_be_visible()
    expect(page.locator("form.visit-type")).to_have_count(0)
    first_week = _api_slots(site, picker.input_value(), "2026-03-02")
    assert _instants(_shown_slots(page)) == _instants(first_week)

    with page.expect_response(re.compile(r"/slots\?")):
        picker.select_option(str(site.world.video_id))
    video = _api_slots(site, site.world.video_id, "2026-03-02")
    expect(page.locator("[data-testid=slot-days] time")).to_have_count(len(video))
    assert _instants(_shown_slots(page)) == _instants(video)
    assert video != first_week

    # Days are the practice's (Paris), whatever the browser's zone (New York here).
    monday = page.locator("[data-testid=slot-days] .day").first
    expect(monday.locator("h3")).to_have_text("lundi 2 mars")
    expect(monday.locator("time").first).to_have_text("14:00")

    previous = page.get_by_role("button", name="Semaine précédente")
    expect(previous).to_be_disabled()
    with page.expect_response(re.compile(r"from=2026-03-09")):
        page.get_by_role("button", name="Semaine suivante").click()
    expect(page).to_have_url(re.compile(r"week=2026-03-09"))
    expect(page.locator(".week-label")).to_have_text("Semaine du 9 mars 2026")
    later = _api_slots(site, site.world.video_id, "2026-03-09")
    expect(page.locator("[data-testid=slot-days] time")).to_have_count(len(later))
    assert _instants(_shown_slots(page)) == _instants(later)
    expect(page.get_by_role("status")).to_contain_text(f"{len(later)} créneaux libres")
    with page.expect_response(re.compile(r"from=2026-03-02")):
        previous.click()
    expect(previous).to_be_disabled()

    # The address the picker left renders the same week without JavaScript.
    reloaded = httpx2.get(page.url).text
    assert f'value="{site.world.video_id}" selected' in reloaded


def test_an_injected_inline_script_does_not_run(page: Page, site: Site) -> None:
    inject = """() => {
        const script = document.createElement('script');
        script.textContent = 'window.injected = true';
        document.body.appendChild(script);
        return window.injected === true;
    }"""
    violations: list[str] = []
    page.on("console", lambda message: violations.append(message.text))
    page.goto(site.url + site.practitioner_path)
    assert page.evaluate(inject) is False
    assert any("Content Security Policy" in text for text in violations)

    # The same page without its policy runs it: the check above is not vacuous.
    def without_csp(route: Route) -> None:
        response = route.fetch()
        headers = {
            k: v for k, v in response.headers.items() if k.lower() != "content-security-policy"
        }
        route.fulfill(response=response, headers=headers)

    page.route(re.compile(r".*/practitioners/.*"), without_csp)
    page.goto(site.url + site.practitioner_path)
    assert page.evaluate(inject) is True


@pytest.mark.parametrize("language", ["fr", "en"])
def test_the_main_pages_have_no_serious_accessibility_violation(
    context: BrowserContext, site: Site, language: str
) -> None:
    # An init script goes in through the DevTools protocol, so the page's CSP (rightly) does not
    # stop it; a <script> tag would be.
    context.add_init_script(path=AXE)
    page = context.new_page()
    pages = [
        "/",
        "/search?specialty=general_practice&where=Paris",
        "/search?specialty=astrology",
        site.practitioner_path,
        f"/practitioners/{site.world.practice_id}/{site.world.practice_id}",
    ]
    for path in pages:
        joiner = "&" if "?" in path else "?"
        page.goto(f"{site.url}{path}{joiner}lang={language}")
        if path == site.practitioner_path:
            expect(page.locator("#picker-visit-type")).to_be_visible()
        found = serious_violations(page)
        assert not found, (path, [(v["id"], v["help"], len(v["nodes"])) for v in found])


def test_the_keyboard_alone_reaches_the_picker_and_the_slots(page: Page, site: Site) -> None:
    page.goto(site.url + site.practitioner_path)
    expect(page.locator("#picker-visit-type")).to_be_visible()

    def tab_to(selector: str) -> None:
        for _ in range(40):
            page.keyboard.press("Tab")
            if page.evaluate("s => document.activeElement.matches(s)", selector):
                return
        raise AssertionError(f"Tab never reached {selector}")

    tab_to("#picker-visit-type")
    with page.expect_response(re.compile(r"/slots\?")):
        page.keyboard.press("ArrowDown")
    tab_to("button:not([disabled])")
    expect(page.locator(":focus")).to_have_text("Semaine suivante")
    with page.expect_response(re.compile(r"from=2026-03-09")):
        page.keyboard.press("Enter")
    expect(page.locator(".week-label")).to_have_text("Semaine du 9 mars 2026")
    tab_to("[data-testid=slot-days]")
    expect(page.locator(":focus time").first).to_be_visible()


def test_without_javascript_the_slots_and_the_visit_type_form_work(
    browser: Browser, site: Site
) -> None:
    context = browser.new_context(java_script_enabled=False, locale="fr-FR")
    context.on("request", lambda request: site.requests.append(request.url))
    try:
        page = context.new_page()
        page.goto(site.url + site.practitioner_path)
        expect(page.locator("#slot-days time").first).to_be_visible()
        page.select_option("#visit_type", str(site.world.video_id))
        page.click("form.visit-type button")
        expect(page).to_have_url(re.compile(f"visit_type={site.world.video_id}"))
        shown = page.locator("#slot-days time").evaluate_all(
            "nodes => nodes.map(n => n.getAttribute('datetime'))"
        )
        assert _instants(shown) == _instants(_api_slots(site, site.world.video_id, "2026-03-02"))
        page.click("text=Semaine suivante")
        expect(page).to_have_url(re.compile("week=2026-03-09"))
    finally:
        context.close()
    assert all(url.startswith(site.url + "/") for url in site.requests), site.requests


def test_a_failed_request_says_so_and_shows_no_stale_slots(page: Page, site: Site) -> None:
    page.goto(site.url + site.practitioner_path)
    expect(page.locator("[data-testid=slot-days] time").first).to_be_visible()
    page.route(re.compile(r".*/slots\?.*"), lambda route: route.abort())
    page.get_by_role("button", name="Semaine suivante").click()
    expect(page.get_by_role("status")).to_contain_text("n'ont pas pu être chargés")
    expect(page.locator("[data-testid=slot-days] time")).to_have_count(0)
    expect(page.locator(".week-label")).to_have_text("Semaine du 9 mars 2026")
