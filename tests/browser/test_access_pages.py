"""The audit log's pages in a real browser on a live server, used from the keyboard: a patient
finds who accessed their records from the header and narrows it to a relative; a practice admin
filters the practice's log by member and sees a bad window refused. axe-core finds no serious or
critical violation, in either language."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID, uuid4

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from colloque.audit.services import AuditAction, record
from tests.browser.conftest import AXE, Site, serious_violations
from tests.factories import Person
from tests.web_login import staff_in_browser

pytestmark = pytest.mark.browser


def _read(site: Site, person: Person, patient: UUID, action: AuditAction) -> None:
    site.clock.advance(timedelta(seconds=1))
    with site.db.write() as session:
        record(
            session,
            at=site.clock.now(),
            action=action,
            principal=person.principal(site.db),
            object_kind="appointment",
            object_id=uuid4(),
            practice_id=site.world.practice_id,
            subject_id=patient,
        )


def _open(context: BrowserContext, site: Site, person: Person, path: str) -> Page:
    staff_in_browser(context, site.url, site.db, site.clock, person.account_id)
    context.add_init_script(path=AXE)
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(site.url + path)
    return page


def test_a_patient_finds_who_accessed_their_records_and_narrows_it(
    context: BrowserContext, site: Site
) -> None:
    world = site.world
    _read(site, world.doctor, world.child_patient_id, AuditAction.APPOINTMENT_VIEWED)
    _read(site, world.secretary, world.holder_patient_id, AuditAction.APPOINTMENT_CANCELLED)
    page = _open(context, site, world.holder, "/me/appointments?lang=en")
    page.get_by_role("link", name="Who accessed my records").click()
    expect(page.locator("h1")).to_have_text("Who accessed my records")
    rows = page.locator("table.access-history tbody tr")
    expect(rows).to_have_count(4)  # and the making of both records, by the account itself
    expect(rows.nth(0)).to_contain_text("Secretary")
    expect(rows.nth(0)).to_contain_text("Changed: appointments, patient record")
    expect(rows.nth(1)).to_contain_text("Dr Claire Martin (practitioner)")
    expect(rows.nth(1)).to_contain_text("Lina Bernard")
    assert serious_violations(page) == []

    # From the keyboard: to the patient list, pick the child, on to the button, submit.
    page.get_by_label("Whose records").focus()
    page.get_by_label("Whose records").select_option(str(world.child_patient_id))
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Show")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{site.url}/me/access-history?patient={world.child_patient_id}")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("Dr Claire Martin")

    page.goto(site.url + "/me/access-history?lang=fr")
    expect(page.locator("h1")).to_have_text("Qui a consulté mes dossiers")
    expect(rows.nth(1)).to_contain_text("Consultation : rendez-vous, fiche patient")
    assert serious_violations(page) == []


def test_an_admin_filters_the_practice_log_from_the_keyboard(
    context: BrowserContext, site: Site
) -> None:
    world = site.world
    _read(site, world.doctor, world.child_patient_id, AuditAction.APPOINTMENT_VIEWED)
    _read(site, world.secretary, world.holder_patient_id, AuditAction.AGENDA_VIEWED)
    path = f"/practice/{world.practice_id}/audit"
    page = _open(context, site, world.admin, f"/practice/{world.practice_id}/agenda?lang=fr")
    page.get_by_role("link", name="Journal d'audit").click()
    expect(page.locator("h1")).to_have_text("Journal d'audit : Cabinet du Test")
    assert serious_violations(page) == []

    member = page.get_by_label("Membre")
    member.focus()
    member.select_option(label="Doctor Claire")
    page.get_by_role("button", name="Appliquer").focus()
    page.keyboard.press("Enter")
    rows = page.locator("table.audit-log tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.nth(0)).to_contain_text("booking:appointment:view")
    expect(rows.nth(0)).to_contain_text("autorisé")
    rows.nth(0).locator("summary").first.focus()
    page.keyboard.press("Enter")
    expect(rows.nth(0).locator("details").first).to_have_attribute("open", "")
    assert serious_violations(page) == []

    page.goto(f"{site.url}{path}?lang=en&from=2026-03-02T10:00&to=2026-03-02T09:00")
    expect(page.get_by_role("alert")).to_contain_text("Check this filter")
    expect(page.get_by_label("Until (excluded)")).to_have_attribute("aria-invalid", "true")
    assert serious_violations(page) == []
