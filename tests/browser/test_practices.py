"""A member of two practices goes from the header to the list of their practices, and from it
to either one's pages; axe on the list in both languages."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, BrowserContext, expect

from colloque.clock import SettableClock
from colloque.principal import Role
from colloque.scheduling.services import do_create_practice
from tests.browser.conftest import serious_violations
from tests.browser.scene import Scene, make_member


@pytest.mark.parametrize(
    ("locale", "link", "title"),
    [("fr-FR", "Mes cabinets", "Mes cabinets"), ("en-GB", "My practices", "My practices")],
)
def test_a_member_of_two_practices_picks_one_from_the_header(
    browser: Browser,
    scene: Scene,
    contexts: list[BrowserContext],
    clock: SettableClock,
    locale: str,
    link: str,
    title: str,
) -> None:
    boss = make_member(scene, clock, "patronne", Role.ADMIN)
    with scene.db.write() as session:
        annex = do_create_practice(
            session,
            now=clock.now(),
            principal=boss.person.principal(scene.db),
            name="Annexe de Lyon",
            address="3 place Bellecour",
            postcode="69002",
            city="Lyon",
            latitude=45.7578,
            longitude=4.832,
            timezone="Europe/Paris",
        ).practice_id
    context = boss.sign_in(scene, browser, locale=locale)
    contexts.append(context)
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.goto(f"{scene.url}/me/appointments?lang={locale[:2]}")
    page.get_by_role("link", name=link).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    expect(page.get_by_role("heading", level=2)).to_have_count(2)
    found = serious_violations(page)
    assert not found, [(v["id"], v["help"]) for v in found]
    page.get_by_role("link", name="Annexe de Lyon").click()
    expect(page).to_have_url(f"{scene.url}/practice/{annex}/agenda")
