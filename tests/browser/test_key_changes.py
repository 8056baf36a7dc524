"""A practice member's keys were reset: the browser stops before sealing anything to them and
shows the new fingerprint, which a person compares and confirms, against a real server.

The practice has two admins; the second signed a link of its membership chain, so whoever books
there verifies the second admin's keys. Those keys are then reset (the new keys are the admin's
own, published with their reset endorsement as the reset flow does, the drill's way). The patient's
browser must show the same fingerprint the Python client computes, book nothing on a cancel (or
Escape), seal once confirmed (the practice then opens the reason in Python), and remember the
confirmation in IndexedDB across a reload.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, BrowserContext, Locator, Page, expect
from sqlalchemy import select

from colloque.booking.models import Appointment
from colloque.client import KeysChanged
from colloque.clock import SettableClock
from colloque.crypto.keys import UserKeys
from colloque.crypto.statements import Role as GroupRole
from colloque.crypto.transparency import fingerprint
from colloque.principal import Role
from tests.browser.conftest import serious_violations
from tests.browser.scene import PATIENT_EMAIL, Scene, book, open_page, unlock
from tests.functional.keys.conftest import LOG, PASSWORD, Keyed, add, keyed, operator_mints

pytestmark = pytest.mark.browser

REASON = "Mal de dos depuis le déménagement"
TITLE_FR = "Les clés d'un membre du cabinet ont changé"


def _deputy_resets(scene: Scene, clock: SettableClock) -> tuple[Keyed, UserKeys]:
    """A second admin, attested by the first, attests a secretary (so signs a link of the chain),
    then resets their keys."""
    practice = scene.world.practice_id
    deputy, desk = keyed(scene.db, clock, "deputy"), keyed(scene.db, clock, "desk")
    add(scene.db, practice, deputy, Role.ADMIN)
    add(scene.db, practice, desk, Role.SECRETARY)
    with scene.staff() as admin:
        admin.practice_keys.attest_member(practice, deputy.account_id, GroupRole.ADMIN)
    with scene.staff(deputy) as client:
        client.practice_keys.attest_member(practice, desk.account_id, GroupRole.SECRETARY)
    return deputy, operator_mints(scene.db, clock, deputy.account_id, endorse=True)


def _dialog(page: Page, title: str = TITLE_FR) -> Locator:
    return page.get_by_role("dialog", name=title)


def _confirmed_in_indexeddb(page: Page) -> dict[str, str]:
    saved = page.evaluate(
        """() => new Promise((resolve, reject) => {
            const open = indexedDB.open("colloque-key-directory");
            open.onsuccess = () => {
              const get = open.result.transaction("logs").objectStore("logs").get(origin);
              get.onsuccess = () => resolve(get.result);
              get.onerror = () => reject(get.error);
            };
          })""".replace("origin", repr(LOG.origin))
    )
    confirmed: dict[str, str] = saved["confirmed"]
    return confirmed


def test_a_reset_member_is_confirmed_by_fingerprint_before_sealing(
    browser: Browser, scene: Scene, contexts: list[BrowserContext], clock: SettableClock
) -> None:
    deputy, new_keys = _deputy_resets(scene, clock)
    expected = fingerprint([new_keys.encryption_binding(), new_keys.signing_binding()])
    page = open_page(browser, scene, contexts, scene.booking_path(scene.slots()[0]))
    unlock(page)
    book(page, REASON)

    dialog = _dialog(page)
    expect(dialog).to_be_visible()
    # Focus is in the dialog, on its title, so a screen reader starts there.
    expect(dialog.get_by_role("heading", name=TITLE_FR)).to_be_focused()
    shown = dialog.locator(".fingerprint").inner_text()
    assert shown == expected
    # The Python client, which confirmed nothing either, stops with the same fingerprint.
    with scene.staff() as admin, pytest.raises(KeysChanged) as changed:
        admin.key_directory.user_keys(deputy.account_id)
    assert (changed.value.user_id, changed.value.fingerprint) == (deputy.account_id, shown)
    # The name is the server's word, and says so.
    expect(dialog.locator(".claimed-name")).to_have_text("Deputy")
    expect(dialog).to_contain_text("indiqué par le serveur, non vérifié")
    assert serious_violations(page, "dialog") == []

    # Escape cancels: nothing sealed, nothing booked, nothing remembered.
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(page.get_by_role("alert")).to_contain_text("rien n'a été chiffré ni réservé")
    expect(page.get_by_role("button", name="Confirmer le rendez-vous")).to_be_focused()
    assert scene.appointments() == 0
    assert _confirmed_in_indexeddb(page) == {}

    # Again, and this time confirmed from the keyboard: the seal goes on to the booking.
    page.keyboard.press("Enter")
    expect(dialog.get_by_role("heading", name=TITLE_FR)).to_be_focused()
    page.keyboard.press("Tab")
    expect(
        dialog.get_by_role("button", name="Les empreintes sont identiques : continuer")
    ).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Rendez-vous confirmé")).to_be_focused()
    assert scene.appointments() == 1
    assert _confirmed_in_indexeddb(page) == {str(deputy.account_id): shown.replace(" ", "")}

    # The practice reads the reason in Python, once its admin has compared the same fingerprint.
    with scene.db.read() as session:
        appointment_id = session.scalars(select(Appointment.appointment_id)).one()
    with scene.staff() as admin:
        admin.confirm_keys(deputy.account_id, shown)
        appointment = admin._get(
            f"/api/v1/practices/{scene.world.practice_id}/appointments/{appointment_id}"
        )
        assert admin.read_reason(appointment).reason == REASON

    # A reload is a new worker with no keys: the confirmation is still in IndexedDB.
    page.goto(scene.url + scene.booking_path(scene.slots()[-1]))
    unlock(page)
    book(page, "second")
    expect(page.get_by_role("heading", name="Rendez-vous confirmé")).to_be_visible()
    assert scene.appointments() == 2


def test_cancelling_in_english_books_nothing(
    browser: Browser, scene: Scene, contexts: list[BrowserContext], clock: SettableClock
) -> None:
    _deputy_resets(scene, clock)
    page = open_page(
        browser, scene, contexts, scene.booking_path(scene.slots()[0]) + "&lang=en", locale="en-GB"
    )
    expect(page.get_by_label("Email address")).to_have_value(PATIENT_EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Unlock").click()
    page.get_by_label("Reason for the visit (optional)").fill("never sent")
    page.get_by_role("button", name="Confirm the appointment").click()
    dialog = _dialog(page, "A practice member's keys have changed")
    expect(dialog).to_contain_text("as the server states it, not verified")
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()
    expect(page.get_by_role("alert")).to_contain_text("nothing was encrypted or booked")
    assert scene.appointments() == 0
