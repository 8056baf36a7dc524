"""Reading one's sealed reasons on "My appointments", in the browser, against a real server.

The server's page has no plaintext: it marks where each sealed reason goes. Once the holder unlocks
their keys (the booking page's form), the worker opens each reason after checking its author: one
the patient sealed in the browser (their own, no chain needed), one the practice's desk sealed with
the Python client for a phone booking (a member of the verified chain), and one an account of the
operator's signed and swapped in (refused, with a message, and nothing of it shown).
"""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from colloque.clock import SettableClock
from colloque.crypto.statements import Role as GroupRole
from colloque.principal import Role
from tests.browser.conftest import serious_violations
from tests.browser.scene import (
    PATIENT_EMAIL,
    Scene,
    book,
    open_page,
    operator_swaps_reason,
    phone_booking,
    unlock,
)
from tests.functional.keys.conftest import PASSWORD, add, keyed

pytestmark = pytest.mark.browser

MINE = "Vaccin du voyage, rappel — 旅行"
BY_PHONE = "Renouvellement d'ordonnance, demandé au téléphone"
FORGED = "FORGED by the operator"


def _slot(page: Page, appointment_id: str) -> Any:
    return page.locator(f"#reason-{appointment_id}")


def test_the_holder_reads_reasons_sealed_by_themselves_and_the_desk_not_a_forged_one(
    browser: Browser, scene: Scene, contexts: list[BrowserContext], clock: SettableClock
) -> None:
    page = open_page(browser, scene, contexts, scene.booking_path(scene.slots()[0]))
    unlock(page)
    book(page, MINE)
    expect(page.get_by_role("heading", name="Rendez-vous confirmé")).to_be_visible()
    # The desk, attested by the admin, books by phone; another phone booking is then forged.
    desk = keyed(scene.db, clock, "desk")
    add(scene.db, scene.world.practice_id, desk, Role.SECRETARY)
    with scene.staff() as admin:
        admin.practice_keys.attest_member(
            scene.world.practice_id, desk.account_id, GroupRole.SECRETARY
        )
    with scene.staff(desk) as desk_client:
        by_phone = phone_booking(scene, desk_client, BY_PHONE)
        forged = phone_booking(scene, desk_client, "vrai")
    operator_swaps_reason(scene, forged, clock, FORGED)

    response = page.goto(scene.url + "/me/appointments")
    assert response is not None
    html = response.text()
    for secret in (MINE, BY_PHONE, "vrai", FORGED):
        assert secret not in html
    sealed = page.evaluate(
        "() => JSON.parse(document.getElementById('appointments-data').textContent).sealed"
    )
    assert len(sealed) == 3
    phoned_ids = (by_phone["appointment_id"], forged["appointment_id"])
    own = next(s["id"] for s in sealed if s["id"] not in phoned_ids)
    expect(_slot(page, own)).to_have_text("Chiffré : déverrouillez vos clés pour le lire.")

    # The page knows who is signed in: only the password is asked for.
    email = page.get_by_label("Adresse e-mail")
    expect(email).to_have_value(PATIENT_EMAIL)
    expect(email).not_to_be_editable()
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Déverrouiller").click()
    expect(page.get_by_role("status").filter(has_text="déchiffré")).to_have_text(
        "2 motifs déchiffrés."
    )

    expect(_slot(page, own).locator(".reason-text")).to_have_text(MINE)
    expect(_slot(page, own).locator(".visit-type")).to_have_text(
        "Type de consultation : Consultation"
    )
    expect(_slot(page, own).locator(".author")).to_have_text("Écrit par vous.")
    phoned = _slot(page, by_phone["appointment_id"])
    expect(phoned.locator(".reason-text")).to_have_text(BY_PHONE)
    expect(phoned.locator(".author")).to_have_text("Écrit par le cabinet.")
    refused = _slot(page, forged["appointment_id"])
    expect(refused).to_contain_text("ni vous ni un membre reconnu du cabinet")
    expect(page.locator("body")).not_to_contain_text(FORGED)
    assert serious_violations(page) == []
