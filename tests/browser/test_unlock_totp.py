"""Unlocking the keys on the booking page and on "My appointments" for a patient with TOTP on, in
the browser, against a real server.

The unlock form logs in again; for this account the server asks for the second factor, so the
form asks for the code (the authenticator app's, or one of the backup codes) and then unlocks.
A wrong code is refused with a message, and the next one is typed without the password again.
The practice reads the reason booked with the Python client; the patient reads it on "My
appointments" after unlocking with a backup code.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect
from sqlalchemy import select

from colloque.booking.models import Appointment
from colloque.clock import SettableClock
from tests.browser.conftest import serious_violations
from tests.browser.scene import PATIENT_EMAIL, Scene, book, open_page, turn_on_totp
from tests.functional.keys.conftest import PASSWORD

pytestmark = pytest.mark.browser

REASON = "Contrôle de la cheville après entorse — 足首"
CODE_LABEL = "Code à 6 chiffres ou code de secours"


def _password_step(page: Page) -> None:
    expect(page.get_by_label("Adresse e-mail")).to_have_value(PATIENT_EMAIL)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Déverrouiller").click()


def test_a_patient_with_totp_unlocks_with_the_code_books_and_reads_the_reason(
    browser: Browser, scene: Scene, contexts: list[BrowserContext], clock: SettableClock
) -> None:
    # The last slot: each code moves the clock on, and the first could become too soon to book.
    page = open_page(browser, scene, contexts, scene.booking_path(scene.slots()[-1]))
    app = turn_on_totp(scene, clock)

    # The password is right; the account asks for its code, in a labelled field that has the focus.
    _password_step(page)
    code_field = page.get_by_label(CODE_LABEL)
    expect(code_field).to_be_focused()
    expect(page.get_by_text("saisissez le code à 6 chiffres de votre application")).to_be_visible()
    expect(page.get_by_role("alert")).to_have_count(0)
    expect(page.get_by_label("Mot de passe")).to_have_count(0)
    found = serious_violations(page)
    assert not found, [(v["id"], v["help"]) for v in found]

    # Six digits or a backup code; anything else the browser stops before it is sent.
    code_field.fill("12345")
    assert code_field.evaluate("field => field.validity.patternMismatch")
    code_field.fill("abcde-fghij")
    assert not code_field.evaluate("field => field.validity.patternMismatch")

    # A wrong code is refused and said so; the next one goes in the same field.
    code_field.fill(app.wrong_code())
    page.get_by_role("button", name="Déverrouiller").click()
    expect(page.get_by_role("alert")).to_have_text("Ce code n'est pas valide.")
    expect(code_field).to_be_focused()
    expect(code_field).to_have_value("")
    assert scene.appointments() == 0

    code_field.fill(app.code())
    page.get_by_role("button", name="Déverrouiller").click()
    book(page, REASON)
    expect(page.get_by_role("heading", name="Rendez-vous confirmé")).to_be_focused()

    with scene.db.read() as session:
        appointment_id = session.scalars(select(Appointment.appointment_id)).one()
    with scene.staff() as staff:
        appointment = staff._get(
            f"/api/v1/practices/{scene.world.practice_id}/appointments/{appointment_id}"
        )
        opened = staff.read_reason(appointment)
    assert (opened.reason, opened.visit_type_id) == (REASON, scene.world.consultation_id)

    # On "My appointments", a backup code unlocks as well (written as shown, with its hyphen).
    page.goto(scene.url + "/me/appointments")
    _password_step(page)
    page.get_by_label(CODE_LABEL).fill(app.backup_codes[0])
    page.get_by_role("button", name="Déverrouiller").click()
    expect(page.get_by_role("status").filter(has_text="déchiffré")).to_have_text(
        "1 motif déchiffré."
    )
    expect(page.locator(f"#reason-{appointment_id} .reason-text")).to_have_text(REASON)
