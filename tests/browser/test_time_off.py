"""The time off page in a real browser on a live server: an absence over booked appointments
lists them with the count before anything is saved, then cancels them once confirmed and says how
many; one booked since the list was shown is listed again, never cancelled unseen; a practitioner
enters and removes their own absence; axe-core finds no serious or critical violation in either
language."""

from __future__ import annotations

from datetime import UTC, date, datetime
from uuid import UUID

import pytest
from playwright.sync_api import BrowserContext, Page, expect
from sqlalchemy import select

from colloque.booking.models import Appointment
from colloque.notifications.models import OutboxMessage
from colloque.scheduling.models import AgendaOverride
from tests.browser.conftest import AXE, Site, serious_violations
from tests.factories import book
from tests.web_login import staff_in_browser

pytestmark = pytest.mark.browser

#: A Tuesday of the world's agenda, a week after the clock's Monday (tests/conftest.py T0).
DAY = "2026-03-10"


def _open(context: BrowserContext, site: Site, account_id: UUID, lang: str = "en") -> Page:
    staff_in_browser(context, site.url, site.db, site.clock, account_id)
    context.add_init_script(path=AXE)
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(f"{site.url}/practice/{site.world.practice_id}/time-off?lang={lang}")
    return page


def _overrides(site: Site) -> list[tuple[str, date, int | None]]:
    with site.db.read() as session:
        return [
            (kind, first, start)
            for kind, first, start in session.execute(
                select(AgendaOverride.kind, AgendaOverride.first_day, AgendaOverride.start_minute)
                .where(AgendaOverride.practice_id == site.world.practice_id)
                .order_by(AgendaOverride.first_day)
            )
        ]


def _fill(page: Page, first: str, last: str, start: str = "", end: str = "") -> None:
    page.get_by_label("First day").fill(first)
    page.get_by_label("Last day").fill(last)
    page.get_by_label("Start", exact=True).fill(start)
    page.get_by_label("End", exact=True).fill(end)


def test_an_absence_over_booked_appointments_lists_them_before_saving(
    context: BrowserContext, site: Site
) -> None:
    world = site.world
    # 09:00 and 10:00 in Paris (UTC+1 in March), and one in the afternoon the absence spares.
    morning = book(site.db, site.clock, world, datetime(2026, 3, 10, 8, 0, tzinfo=UTC))
    later = book(
        site.db,
        site.clock,
        world,
        datetime(2026, 3, 10, 9, 0, tzinfo=UTC),
        person=world.stranger,
        patient_id=world.stranger_patient_id,
    )
    page = _open(context, site, world.secretary.account_id)
    _fill(page, DAY, DAY, "08:30", "12:00")
    page.get_by_role("button", name="Show the appointments it covers").click()
    covered = page.locator(".covered")
    expect(covered.get_by_role("heading")).to_have_text(
        "2 booked appointments fall in this time off:"
    )
    expect(covered.get_by_role("heading")).to_be_focused()
    items = covered.locator("li")
    expect(items).to_have_count(2)
    expect(items.nth(0)).to_contain_text("Hugo Bernard")
    expect(items.nth(0)).to_contain_text("9:00")
    expect(items.nth(1)).to_contain_text("Sophie Petit")
    expect(covered).to_contain_text("Saving the time off cancels these appointments")
    # Nothing is saved until the member confirms.
    assert _overrides(site) == []

    # An afternoon absence covers neither.
    _fill(page, DAY, DAY, "14:00", "15:00")
    expect(covered).to_have_count(0)
    page.get_by_role("button", name="Show the appointments it covers").click()
    expect(covered.get_by_role("heading")).to_have_text("No booked appointment in this time off.")

    _fill(page, DAY, DAY, "08:30", "12:00")
    page.get_by_role("button", name="Show the appointments it covers").click()
    covered.get_by_role("button", name="Save the time off and cancel these 2 appointments").click()
    expect(page.get_by_role("status")).to_have_text(
        "Time off saved; 2 appointments cancelled, each patient told."
    )
    assert _overrides(site) == [("absence", date(2026, 3, 10), 510)]
    expect(page.locator(".existing li")).to_have_count(1)
    with site.db.read() as session:
        for appointment in (morning, later):
            row = session.get(Appointment, (world.practice_id, appointment.appointment_id))
            assert row is not None
            assert row.status == "cancelled_by_practice"
        told = session.scalars(
            select(OutboxMessage.appointment_id).where(
                OutboxMessage.template == "appointment_cancelled"
            )
        ).all()
    assert set(told) == {morning.appointment_id, later.appointment_id}
    assert len(told) == 2
    assert not [v["id"] for v in serious_violations(page)]


def test_an_appointment_booked_after_the_list_was_shown_is_listed_again(
    context: BrowserContext, site: Site
) -> None:
    world = site.world
    book(site.db, site.clock, world, datetime(2026, 3, 10, 8, 0, tzinfo=UTC))
    page = _open(context, site, world.secretary.account_id)
    _fill(page, DAY, DAY, "08:30", "12:00")
    page.get_by_role("button", name="Show the appointments it covers").click()
    covered = page.locator(".covered")
    expect(covered.locator("li")).to_have_count(1)
    # Someone books 10:00 while the list is on screen.
    book(
        site.db,
        site.clock,
        world,
        datetime(2026, 3, 10, 9, 0, tzinfo=UTC),
        person=world.stranger,
        patient_id=world.stranger_patient_id,
    )
    covered.get_by_role("button", name="Save the time off and cancel this appointment").click()
    expect(covered).to_contain_text("The appointments changed since the list was shown")
    expect(covered.get_by_role("heading")).to_have_text(
        "2 booked appointments fall in this time off:"
    )
    expect(covered.locator("li").nth(1)).to_contain_text("Sophie Petit")
    assert _overrides(site) == []
    covered.get_by_role("button", name="Save the time off and cancel these 2 appointments").click()
    expect(page.get_by_role("status")).to_have_text(
        "Time off saved; 2 appointments cancelled, each patient told."
    )
    assert _overrides(site) == [("absence", date(2026, 3, 10), 510)]


def test_the_covered_appointments_are_found_on_the_practices_wall_clock_after_dst(
    context: BrowserContext, site: Site
) -> None:
    """Paris moved to summer time on 2026-03-29: 07:00 UTC on the 30th is 09:00 on the practice's
    wall (the browser itself runs in New York, where it is 03:00)."""
    book(site.db, site.clock, site.world, datetime(2026, 3, 30, 7, 0, tzinfo=UTC))
    page = _open(context, site, site.world.secretary.account_id)
    _fill(page, "2026-03-30", "2026-03-30", "09:00", "09:15")
    page.get_by_role("button", name="Show the appointments it covers").click()
    covered = page.locator(".covered")
    expect(covered.get_by_role("heading")).to_have_text(
        "1 booked appointment falls in this time off:"
    )
    expect(covered.locator("li")).to_contain_text("9:00")
    _fill(page, "2026-03-30", "2026-03-30", "08:00", "09:00")
    page.get_by_role("button", name="Show the appointments it covers").click()
    expect(covered.get_by_role("heading")).to_have_text("No booked appointment in this time off.")


def test_a_practitioner_enters_and_removes_their_own_absence(
    context: BrowserContext, site: Site
) -> None:
    page = _open(context, site, site.world.doctor.account_id)
    expect(page.get_by_text("Practitioner: Dr Claire Martin")).to_be_visible()
    expect(page.get_by_label("Practitioner")).to_have_count(0)
    page.get_by_label("Kind").select_option("holiday")
    page.get_by_label("First day").fill("2026-04-13")
    page.get_by_label("Last day").fill("2026-04-17")
    page.get_by_role("button", name="Show the appointments it covers").click()
    page.get_by_role("button", name="Save the time off").click()
    expect(page.get_by_role("status")).to_have_text("Time off saved.")
    assert _overrides(site) == [("holiday", date(2026, 4, 13), None)]

    remove = page.locator(".existing").get_by_role("button")
    expect(remove).to_have_text(
        "Remove: Holiday (whole days) from April 13, 2026 to April 17, 2026"
    )
    remove.click()
    expect(page.get_by_role("status")).to_have_text("Removed.")
    assert _overrides(site) == []


@pytest.mark.parametrize(("lang", "heading"), [("fr", "Absences"), ("en", "Time off")])
def test_no_serious_violation_in_either_language(
    context: BrowserContext, site: Site, lang: str, heading: str
) -> None:
    book(site.db, site.clock, site.world, datetime(2026, 3, 10, 8, 0, tzinfo=UTC))
    page = _open(context, site, site.world.admin.account_id, lang)
    expect(page.locator("h1")).to_contain_text(heading)
    page.locator("#time-off-first_day").fill(DAY)
    page.locator("#time-off-last_day").fill(DAY)
    page.locator(".time-off form button[type=submit]").click()
    expect(page.locator(".covered li")).to_have_count(1)
    assert not [v["id"] for v in serious_violations(page)]
