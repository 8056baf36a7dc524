"""The whole journey of a new patient, in one browser, against a real server on loopback: the home
page, a search by specialty and city, a practitioner's page, a visit type and a slot; not signed in,
so sign-up on the way, inside the booking page (the address proved by the code mailed to a real
SMTP inbox, the keys made in the browser, the password's strength shown as it is typed, the
recovery code shown once and two of its groups typed back), then the booking form for the same
slot at once, the keys still unlocked from the sign-up; the reason written and sealed in the
worker; the confirmation. Then the practice opens the reason with ``colloque.client``, and every
table of the database is searched: neither the reason nor the visit type chosen is in the clear.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import datetime
from urllib.parse import parse_qs, urlsplit
from uuid import UUID

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect
from sqlalchemy import select

from colloque.accounts.models import Account
from colloque.booking.models import Appointment
from colloque.patients.models import Patient
from tests.browser.scene import Scene, database_holds
from tests.browser.signup import sign_up
from tests.web_login import PASSWORD

pytestmark = pytest.mark.browser

EMAIL = "nouvelle.patiente@example.test"
REASON = "Essoufflement à l'effort depuis dix jours, toux sèche la nuit — 息切れ"
VISIT_TYPE = "Première consultation"


def _visit_type_traces(scene: Scene, visit_type_id: UUID) -> Counter[str]:
    """Where the visit type shows in the clear: its id in every form a column may keep it in,
    and its label."""
    found: Counter[str] = Counter()
    for needle in (str(visit_type_id), visit_type_id.hex, visit_type_id.bytes, VISIT_TYPE):
        found.update(database_holds(scene.db, needle))
    return found


def _find_and_pick_a_slot(page: Page, scene: Scene) -> tuple[str, str]:
    """Home, search, the practitioner, the visit type, the first slot; returns the slot and the
    visit type's id, as the booking page's address carries them."""
    page.goto(scene.url + "/")
    page.select_option("#specialty", "general_practice")
    page.fill("#where", "Paris")
    page.press("#where", "Enter")
    expect(page).to_have_url(re.compile(r".*/search\?.*specialty=general_practice.*"))
    page.locator("ol.results h3 a", has_text="Martin").first.click()
    expect(page).to_have_url(scene.url + scene.practitioner_path)
    expect(page.locator("h1")).to_contain_text("Claire Martin")

    picker = page.locator("#picker-visit-type")
    picker.select_option(label=f"{VISIT_TYPE} (30 min)")
    first = page.get_by_test_id("slot-days").get_by_role("link").first
    expect(first).to_have_attribute("href", re.compile(r"visit_type=" + picker.input_value()))
    first.click()
    expect(page).to_have_url(re.compile(r".*/book/.*slot=.*"))
    query = parse_qs(urlsplit(page.url).query)
    return query["slot"][0], query["visit_type"][0]


def _sign_up_on_the_way(page: Page, scene: Scene, booking_path: str) -> None:
    booking = page.locator("#booking")
    expect(booking.get_by_role("heading")).to_contain_text("il vous attendra ici")
    booking.get_by_role("button", name="Créer un compte").click()
    expect(booking.get_by_role("heading", name="Créer un compte", exact=True)).to_be_focused()

    # zxcvbn judges the password as it is typed: a common one is refused before anything is sent.
    password = page.locator("#signup-password")
    strength = page.locator("#signup-password-strength")
    password.fill("password1234")
    expect(strength).to_contain_text(
        re.compile("Robustesse : (très faible|faible) · Ce mot de passe est trop facile")
    )
    expect(strength.locator("meter")).to_have_attribute("value", re.compile("^[012]$"))
    password.fill(PASSWORD)
    expect(strength).to_have_text(re.compile(r"^\s*Robustesse : (bonne|excellente)\s*$"))
    expect(strength.locator("meter")).to_have_attribute("value", re.compile("^[34]$"))

    sign_up(page, scene.inbox, EMAIL, within="#booking")
    expect(page).to_have_url(scene.url + booking_path)


def test_a_new_patient_finds_a_doctor_signs_up_on_the_way_and_books_a_sealed_visit(
    browser: Browser, scene: Scene, contexts: list[BrowserContext]
) -> None:
    context = scene.new_context(browser)
    contexts.append(context)
    page = context.new_page()
    page.set_default_timeout(30_000)

    slot, visit_type = _find_and_pick_a_slot(page, scene)
    booking_path = urlsplit(page.url).path + "?" + urlsplit(page.url).query
    visit_type_id = UUID(visit_type)
    before = _visit_type_traces(scene, visit_type_id)
    _sign_up_on_the_way(page, scene, booking_path)

    # Still the booking page, the same slot and visit type, and the form at once: the keys made
    # at sign-up stay unlocked in the page's worker, so the password is not asked for again.
    expect(page.locator(".summary time")).to_have_attribute("datetime", slot)
    expect(page.get_by_label("Motif de consultation")).to_have_value(visit_type)
    expect(page.get_by_role("button", name="Déverrouiller")).to_have_count(0)
    expect(page.get_by_label("Pour qui")).to_contain_text("Moi-même")
    page.get_by_label("Raison de la visite (facultatif)").fill(REASON)
    page.get_by_role("button", name="Confirmer le rendez-vous").click()

    expect(page.get_by_role("heading", name="Rendez-vous confirmé")).to_be_focused()
    confirmation = page.locator(".confirmation")
    expect(confirmation.locator("time")).to_have_attribute("datetime", slot)
    expect(confirmation).to_contain_text(f"{VISIT_TYPE} (30 min)")
    # The password went through Argon2id once, at sign-up: nothing logged in again to unlock.
    assert not [u for u in scene.requests if "/api/v1/auth/login" in u or "/auth/prelogin" in u]

    with scene.db.read() as session:
        account_id = session.scalars(select(Account.account_id).where(Account.email == EMAIL)).one()
        appointment = session.scalars(
            select(Appointment)
            .join(Patient, Patient.patient_id == Appointment.patient_id)
            .where(Patient.holder_account_id == account_id)
        ).one()
        appointment_id = appointment.appointment_id
        assert appointment.starts_at == datetime.fromisoformat(slot)

    # The practice reads what the patient wrote, with its own Python client on its own device.
    with scene.staff() as staff:
        opened = staff.read_reason(
            staff._get(f"/api/v1/practices/{scene.world.practice_id}/appointments/{appointment_id}")
        )
    assert (opened.reason, opened.visit_type_id) == (REASON, visit_type_id)

    # The server never had them in the clear: the reason is nowhere, whole or in part, and the
    # booking added no row that names the visit type (the practice's public list of visit types
    # and the free slots cached for search name it, before as after).
    for needle in (REASON, REASON[:16], REASON[-8:]):
        assert database_holds(scene.db, needle) == []
    assert before, "the visit type's own rows were not found: is the search looking?"
    assert not _visit_type_traces(scene, visit_type_id) - before
