"""Notifications in a real browser on a live server: the messages the patient received are listed
under the references the mails name; the "check a reference" box says a real reference is from
Colloque and an unknown one is not; axe-core finds no serious or critical violation."""

from __future__ import annotations

import re
from datetime import date

import pytest
from playwright.sync_api import BrowserContext, expect

from colloque.delivery.channels import Channels
from colloque.search import availability
from tests.browser.conftest import AXE, Site, serious_violations
from tests.factories import Person, book
from tests.functional.notifications.conftest import delivery_for, smtp_to
from tests.smtp import Inbox
from tests.web_login import make_patient_account, own_patient_id, sign_in_browser

pytestmark = pytest.mark.browser

EMAIL = "lea.martin@example.test"


def _reference(inbox: Inbox) -> str:
    [message] = inbox.to(EMAIL)
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            found = re.search(r"Référence ([A-Z2-7]{8})\.", payload.decode())
            assert found
            return found.group(1)
    raise AssertionError("no text part")


def test_the_inbox_lists_what_was_sent_and_checks_references(
    context: BrowserContext, site: Site, inbox: Inbox
) -> None:
    person = make_patient_account(site.db, site.clock, EMAIL)
    sign_in_browser(context, site.url, EMAIL)
    with site.db.read() as session:
        start = availability.list_free_slots(
            session,
            now=site.clock.now(),
            practice_id=site.world.practice_id,
            practitioner_id=site.world.practitioner_id,
            visit_type_id=site.world.consultation_id,
            duration_minutes=None,
            start=date(2026, 3, 9),
            days=7,
        )[0].start
    book(
        site.db,
        site.clock,
        site.world,
        start,
        person=Person(person.account_id, ""),
        patient_id=own_patient_id(site.db, person.account_id),
    )
    assert delivery_for(site.db, site.clock, Channels(email=smtp_to(inbox))).run_until_idle().sent
    reference = _reference(inbox)

    context.add_init_script(path=AXE)
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(site.url + "/me/appointments?lang=en")
    page.get_by_role("link", name="Notifications").click()
    expect(page.locator("h1")).to_have_text("Notifications")
    entry = page.locator(f"#notification-{reference}")
    expect(entry).to_contain_text("Appointment confirmed")
    expect(entry).to_contain_text("Cabinet du Test")
    expect(entry).to_contain_text(reference)
    assert not [v["id"] for v in serious_violations(page)]

    box = page.get_by_label("Reference named in the message")
    result = page.locator("#check-result")
    box.fill(reference.lower())
    box.press("Enter")
    expect(result).to_contain_text("This message is from Colloque: Appointment confirmed")
    expect(result).to_contain_text(reference)
    # Answered in place: the page was not reloaded (the island asked the API).
    assert "reference=" not in page.url
    box.fill("ZZZZ2222")
    page.get_by_role("button", name="Check").click()
    expect(result).to_have_text(
        re.compile(r"^Reference not found: this message is not from Colloque")
    )
    assert not [v["id"] for v in serious_violations(page)]
