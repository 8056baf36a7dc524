"""The practice settings page in a real browser on a live server: an admin edits a visit type and
the weekly hours (each checked in the database), two admins edit the same visit type and the
second sees the conflict with the fresh values, an overlapping opening names the one it overlaps,
and axe-core finds no serious or critical violation in either language."""

from __future__ import annotations

import re
from uuid import UUID

import pytest
from playwright.sync_api import Browser, BrowserContext, Locator, Page, expect
from sqlalchemy import select

from colloque.accounts.services import do_add_member
from colloque.principal import Role
from colloque.scheduling.models import OpeningRange, Practitioner, VisitType
from tests.browser.conftest import AXE, Site, serious_violations
from tests.factories import make_person
from tests.web_login import staff_in_browser

pytestmark = pytest.mark.browser


def _open(context: BrowserContext, site: Site, account_id: UUID, lang: str = "en") -> Page:
    staff_in_browser(context, site.url, site.db, site.clock, account_id)
    context.add_init_script(path=AXE)
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(f"{site.url}/practice/{site.world.practice_id}/settings?lang={lang}")
    return page


def _visit_type(page: Page, label: str) -> Locator:
    return page.get_by_role("form", name=label, exact=True)


def _consultation(site: Site) -> VisitType:
    with site.db.read() as session:
        row = session.get(VisitType, (site.world.practice_id, site.world.consultation_id))
        assert row is not None
        return row


def test_an_admin_edits_a_visit_type_and_the_weekly_hours(
    context: BrowserContext, site: Site
) -> None:
    page = _open(context, site, site.world.admin.account_id)
    form = _visit_type(page, "Consultation")
    expect(form.get_by_label("Label", exact=True)).to_have_value("Consultation")
    form.get_by_label("Label", exact=True).fill("Consultation générale")
    form.get_by_label("Length (minutes)").fill("25")
    form.get_by_label("Bookable online").uncheck()
    expect(form.get_by_label("Reminders before the appointment")).to_be_checked()
    form.get_by_label("Reminders before the appointment").uncheck()
    form.get_by_role("button", name="Save").click()
    expect(form.get_by_role("status")).to_have_text("Saved.")
    row = _consultation(site)
    assert (row.label, row.duration_minutes, row.online_bookable, row.reminders) == (
        "Consultation générale",
        25,
        False,
        False,
    )

    monday = page.get_by_role("form", name="Monday 09:00\u201312:00")
    monday.get_by_label("End", exact=True).fill("12:30")
    monday.get_by_role("button", name="Save").click()
    expect(monday.get_by_role("status")).to_have_text("Saved.")
    with site.db.read() as session:
        mondays = session.execute(
            select(OpeningRange.start_minute, OpeningRange.end_minute)
            .where(
                OpeningRange.practice_id == site.world.practice_id,
                OpeningRange.weekday == 0,
            )
            .order_by(OpeningRange.start_minute)
        ).all()
    assert [tuple(r) for r in mondays] == [(540, 750), (840, 1080)]
    assert not [v["id"] for v in serious_violations(page)]


def test_the_second_of_two_admins_sees_the_conflict_and_the_fresh_values(
    browser: Browser, context: BrowserContext, site: Site
) -> None:
    other_admin = make_person(site.db, site.clock, "Admin Bruno")
    with site.db.write() as session:
        do_add_member(
            session,
            practice_id=site.world.practice_id,
            account_id=other_admin.account_id,
            role=Role.ADMIN,
        )
    first = _open(context, site, site.world.admin.account_id)
    second_context = browser.new_context(locale="en-GB")
    try:
        second = _open(second_context, site, other_admin.account_id)
        # Both read the visit type before either saves.
        expect(_visit_type(first, "Consultation").get_by_label("Label", exact=True)).to_be_visible()
        theirs = _visit_type(second, "Consultation")
        expect(theirs.get_by_label("Label", exact=True)).to_have_value("Consultation")

        mine = _visit_type(first, "Consultation")
        mine.get_by_label("Label", exact=True).fill("Consultation du matin")
        mine.get_by_role("button", name="Save").click()
        expect(mine.get_by_role("status")).to_have_text("Saved.")

        theirs.get_by_label("Length (minutes)").fill("40")
        theirs.get_by_role("button", name="Save").click()
        expect(theirs.get_by_role("alert").first).to_contain_text(
            "changed by someone else since you opened it"
        )
        # The fresh values replace what they typed: nothing of theirs was saved.
        expect(theirs.get_by_label("Label", exact=True)).to_have_value("Consultation du matin")
        expect(theirs.get_by_label("Length (minutes)")).to_have_value("20")
        row = _consultation(site)
        assert (row.label, row.duration_minutes) == ("Consultation du matin", 20)

        # Saving again, on the version they now hold, goes through.
        theirs.get_by_label("Length (minutes)").fill("40")
        theirs.get_by_role("button", name="Save").click()
        expect(theirs.get_by_role("status")).to_have_text("Saved.")
        assert _consultation(site).duration_minutes == 40
    finally:
        second_context.close()


def test_an_overlapping_opening_names_the_one_it_overlaps(
    context: BrowserContext, site: Site
) -> None:
    page = _open(context, site, site.world.admin.account_id)
    new = page.get_by_role("form", name="New opening")
    new.get_by_label("Start", exact=True).fill("11:00")
    new.get_by_label("End", exact=True).fill("13:00")
    new.get_by_label("Consultation", exact=True).check()
    new.get_by_role("button", name="Save").click()
    expect(new.locator(".refusal").first).to_have_text(
        "This overlaps another opening of the practitioner: Monday 09:00\u201312:00."
    )
    expect(new.get_by_label("Start", exact=True)).to_be_focused()


def test_a_refused_value_is_explained_next_to_its_field(
    context: BrowserContext, site: Site
) -> None:
    page = _open(context, site, site.world.secretary.account_id)
    pause = page.get_by_role("form", name="Wednesday 16:00\u201316:30")
    pause.get_by_label("End", exact=True).fill("15:00")
    pause.get_by_role("button", name="Save").click()
    start = pause.get_by_label("Start", exact=True)
    expect(start).to_be_focused()
    expect(start).to_have_accessible_description(
        "Not accepted: times must satisfy 00:00 <= start < end <= 24:00."
    )


def test_an_admin_adds_a_practitioner(context: BrowserContext, site: Site) -> None:
    page = _open(context, site, site.world.admin.account_id)
    new = page.get_by_role("form", name="New practitioner")
    new.get_by_label("First name").fill("Inès")
    new.get_by_label("Last name").fill("Roux")
    new.get_by_label("Specialty").select_option("dentistry")
    new.get_by_role("button", name="Save").click()
    expect(new.get_by_role("status")).to_have_text("Saved.")
    expect(page.locator("#practitioners-title + ul")).to_contain_text("Dr Inès Roux")
    # The new agenda is the one shown, empty until its visit types and hours are added.
    expect(page.get_by_label("Practitioner", exact=True)).to_have_value(
        re.compile(r"^[0-9a-f-]{36}$")
    )
    expect(page.locator("#visit-types-title + p")).to_have_text("None yet.")
    with site.db.read() as session:
        row = session.scalars(select(Practitioner).where(Practitioner.last_name == "Roux")).one()
        assert (row.first_name, row.specialty) == ("Inès", "dentistry")


@pytest.mark.parametrize(("lang", "heading"), [("fr", "Réglages"), ("en", "Settings")])
def test_no_serious_violation_in_either_language(
    context: BrowserContext, site: Site, lang: str, heading: str
) -> None:
    page = _open(context, site, site.world.secretary.account_id, lang)
    expect(page.locator("h1")).to_contain_text(heading)
    expect(page.locator("form.versioned").first).to_be_visible()
    assert not [v["id"] for v in serious_violations(page)]
