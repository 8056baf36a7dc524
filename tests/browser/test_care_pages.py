"""My appointments and Relatives in a real browser on a live server: the patient signs in through
the API (prelogin, then a cookie login) in the browser's own context, then cancels (keyboard
only), reschedules, and adds, corrects and removes a relative, each checked in the database;
axe-core finds no serious or critical violation on either page, and (the context fixture) no
request leaves for another origin."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

import pytest
from playwright.sync_api import BrowserContext, Page, expect
from sqlalchemy import select

from colloque.booking.models import Appointment
from colloque.patients.models import Patient
from colloque.search import availability
from tests.browser.conftest import AXE, Site, serious_violations
from tests.factories import Person, book
from tests.web_login import make_patient_account, own_patient_id, sign_in_browser

pytestmark = pytest.mark.browser

EMAIL = "lea.martin@example.test"


def _sign_in(context: BrowserContext, site: Site) -> UUID:
    person = make_patient_account(site.db, site.clock, EMAIL)
    sign_in_browser(context, site.url, EMAIL)
    return person.account_id


def _no_serious_violation(page: Page) -> None:
    assert not [v["id"] for v in serious_violations(page)]


def _first_free(site: Site, day: date) -> datetime:
    with site.db.read() as session:
        return availability.list_free_slots(
            session,
            now=site.clock.now(),
            practice_id=site.world.practice_id,
            practitioner_id=site.world.practitioner_id,
            visit_type_id=site.world.consultation_id,
            duration_minutes=None,
            start=day,
            days=7,
        )[0].start


def _book_two(site: Site, account_id: UUID) -> tuple[Appointment, Appointment]:
    """Two weeks apart: the practice refuses two visits of one patient less than 6 days apart."""
    own = own_patient_id(site.db, account_id)
    person = Person(account_id=account_id, token="")
    return tuple(  # type: ignore[return-value]
        book(site.db, site.clock, site.world, _first_free(site, day), person=person, patient_id=own)
        for day in (date(2026, 3, 9), date(2026, 3, 23))
    )


def test_reschedule_then_cancel_with_the_keyboard_only(context: BrowserContext, site: Site) -> None:
    account_id = _sign_in(context, site)
    moved, cancelled = _book_two(site, account_id)
    context.add_init_script(path=AXE)
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(site.url + "/me/appointments?lang=en")
    expect(page.locator("h1")).to_have_text("My appointments")
    actions = page.locator(f"#actions-{moved.appointment_id}")
    expect(actions.get_by_role("button", name="Move this appointment")).to_be_visible()
    _no_serious_violation(page)

    actions.get_by_role("button", name="Move this appointment").click()
    picker = actions.get_by_label("New slot")
    expect(picker).to_be_focused()
    expect(picker.locator("option").nth(1)).to_be_attached()
    # Someone else takes the chosen slot first: a plain message and fresh slots, no error page.
    taken = picker.locator("option").nth(1).get_attribute("value")
    assert taken is not None
    picker.select_option(taken)
    book(
        site.db,
        site.clock,
        site.world,
        datetime.fromisoformat(taken),
        person=site.world.stranger,
        patient_id=site.world.stranger_patient_id,
    )
    actions.get_by_role("button", name="Move the appointment").click()
    expect(actions.get_by_role("alert")).to_contain_text("This slot was just taken")
    expect(picker.locator(f'option[value="{taken}"]')).to_have_count(0)
    new_start = picker.locator("option").nth(1).get_attribute("value")
    assert new_start is not None
    picker.select_option(new_start)
    actions.get_by_role("button", name="Move the appointment").click()
    expect(page.get_by_role("status")).to_have_text("The appointment is moved.")
    with site.db.read() as session:
        row = session.get(Appointment, (moved.practice_id, moved.appointment_id))
        assert row is not None
        assert row.starts_at == datetime.fromisoformat(new_start)
        assert row.status == "booked"

    # Keyboard only: Tab to the other appointment's cancel button, open, pick a reason, confirm.
    wanted = f"#actions-{cancelled.appointment_id} button.secondary"
    for _ in range(60):
        page.keyboard.press("Tab")
        if page.evaluate(f"() => document.activeElement === document.querySelector('{wanted}')"):
            break
    else:
        pytest.fail("the cancel button cannot be reached with Tab")
    page.keyboard.press("Enter")
    reason = page.locator(f"#cancel-reason-{cancelled.appointment_id}")
    expect(reason).to_be_focused()
    page.keyboard.press("ArrowDown")  # "It is no longer needed"
    expect(reason).to_have_value("no_longer_needed")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_have_text("The appointment is cancelled.")
    with site.db.read() as session:
        row = session.get(Appointment, (cancelled.practice_id, cancelled.appointment_id))
        assert row is not None
        assert (row.status, row.cancel_reason) == ("cancelled_by_patient", "no_longer_needed")
    _no_serious_violation(page)


def test_add_correct_and_remove_a_relative(context: BrowserContext, site: Site) -> None:
    account_id = _sign_in(context, site)
    context.add_init_script(path=AXE)
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(site.url + "/me/relatives?lang=en")
    add = page.locator("#relative-add")
    expect(add.get_by_label("First name")).to_be_visible()
    _no_serious_violation(page)

    add.get_by_label("First name").fill("Noé")
    add.get_by_label("Last name").fill("Martin")
    add.get_by_label("Date of birth").fill("2018-06-01")
    add.get_by_label("Relationship").select_option("child")
    add.get_by_role("button", name="Add this relative").click()
    expect(page.get_by_role("status")).to_have_text("The relative is added.")
    expect(page.locator("ul.relatives")).to_contain_text("Noé Martin · child")

    page.get_by_role("button", name="Edit Noé Martin").click()
    first = page.locator("ul.relatives").get_by_label("First name")
    expect(first).to_be_focused()
    first.fill("Noë")
    page.locator("ul.relatives").get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_have_text("The relative's details are changed.")
    expect(page.locator("ul.relatives")).to_contain_text("Noë Martin")
    with site.db.read() as session:
        relative = session.scalars(
            select(Patient).where(
                Patient.holder_account_id == account_id, Patient.relationship == "child"
            )
        ).one()
        assert (relative.first_name, relative.birth_date) == ("Noë", date(2018, 6, 1))

    page.get_by_role("button", name="Remove Noë Martin").click()
    page.get_by_role("button", name="Yes, remove").click()
    expect(page.get_by_role("status")).to_contain_text("The relative is removed")
    expect(page.locator("ul.relatives")).to_have_count(0)
    with site.db.read() as session:
        assert session.get(Patient, relative.patient_id).holder_account_id is None  # type: ignore[union-attr]
