"""Notifications through the whole app, without JavaScript: a real cookie login, both languages,
no-store, the way to the login page, the list of what was sent and the reference check as a plain
GET form (found, not found, not a reference), and only the signed-in account's own messages."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from colloque.delivery.channels import Channels
from tests.factories import Person, book
from tests.functional.notifications.conftest import delivery_for, smtp_to
from tests.functional.web.conftest import Site
from tests.smtp import Inbox, running_inbox
from tests.web_login import cookie_login, make_patient_account, own_patient_id

EMAIL = "lea.martin@example.test"
# Monday 2026-03-09 10:00 in Paris.
MONDAY_10 = datetime(2026, 3, 9, 9, 0, tzinfo=UTC)


@pytest.fixture
def inbox() -> Iterator[Inbox]:
    with running_inbox() as box:
        yield box


def _sent_reference(site: Site, inbox: Inbox) -> str:
    person = make_patient_account(site.db, site.clock, EMAIL)
    own = own_patient_id(site.db, person.account_id)
    book(
        site.db,
        site.clock,
        site.world,
        MONDAY_10,
        person=Person(person.account_id, ""),
        patient_id=own,
    )
    delivery_for(site.db, site.clock, Channels(email=smtp_to(inbox))).run_until_idle()
    [message] = inbox.to(EMAIL)
    text = next(
        part.get_payload(decode=True)
        for part in message.walk()
        if part.get_content_type() == "text/plain"
    )
    assert isinstance(text, bytes)
    found = re.search(r"Référence ([A-Z2-7]{8})\.", text.decode())
    assert found
    return found.group(1)


def test_the_page_lists_what_was_sent_and_checks_a_reference_without_javascript(
    site: Site, inbox: Inbox
) -> None:
    anonymous = site.client.get("/me/notifications", follow_redirects=False)
    assert anonymous.status_code == 303
    assert anonymous.headers["location"].startswith("/login?next=/me/notifications")
    reference = _sent_reference(site, inbox)
    cookie_login(site.client, EMAIL)

    page = site.client.get("/me/notifications?lang=en")
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    assert 'href="/me/notifications"' in page.text  # the header's link
    assert f'id="notification-{reference}"' in page.text
    assert "Appointment confirmed" in page.text
    assert "Appointment on Monday 9 March 2026, 10:00" in page.text
    assert "Consultation" not in page.text
    french = site.client.get("/me/notifications?lang=fr").text
    assert "Rendez-vous confirmé" in french
    assert "Rendez-vous du lundi 9 mars 2026, 10:00" in french

    found = site.client.get(f"/me/notifications?lang=en&reference={reference.lower()}").text
    assert "This message is from Colloque: Appointment confirmed" in found
    unknown = site.client.get("/me/notifications?lang=en&reference=ZZZZ2222").text
    assert "Reference not found: this message is not from Colloque" in unknown
    invalid = site.client.get("/me/notifications?lang=en&reference=hello").text
    assert "A reference is 8 letters and digits" in invalid
    # A cursor this page did not make shows the first page rather than an error.
    assert site.client.get("/me/notifications?before=nonsense").status_code == 200


def test_another_account_sees_none_of_it(site: Site, inbox: Inbox) -> None:
    reference = _sent_reference(site, inbox)
    make_patient_account(site.db, site.clock, "other@example.test")
    cookie_login(site.client, "other@example.test")
    page = site.client.get("/me/notifications?lang=en").text
    assert "No messages yet." in page
    checked = site.client.get(f"/me/notifications?lang=en&reference={reference}").text
    assert "Reference not found" in checked
