"""The desk in the browser, against a real server: a secretary books by phone (keys unlocked
with their password and TOTP code), finding the patient by name, phone or birth date, or
registering them; the visit type and reason are sealed in the secretary's browser for the
practice and for the patient's account, whose own browser then reads them; an extra appointment
outside the opening hours needs its explicit confirmation; everything works from the keyboard
and passes axe in both languages."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect
from sqlalchemy import select

from colloque.booking.models import Appointment
from colloque.clock import SettableClock
from colloque.patients.models import Patient, PracticePatient
from colloque.patients.registry import remember_patient
from tests.browser.conftest import serious_violations
from tests.browser.scene import (
    DESK_EMAIL,
    Authenticator,
    Scene,
    database_holds,
    desk_secretary,
    open_page,
)
from tests.functional.keys.conftest import PASSWORD

pytestmark = pytest.mark.browser

REASON = "Douleur au genou droit depuis la chute — 膝"
CODE_LABEL = "Code à 6 chiffres ou code de secours"


def book_path(scene: Scene, query: str = "") -> str:
    return f"/practice/{scene.world.practice_id}/book{query}"


def desk_page(
    browser: Browser,
    scene: Scene,
    contexts: list[BrowserContext],
    app: Authenticator,
    path: str,
    *,
    locale: str = "fr-FR",
) -> Page:
    """The secretary's browser, signed in with their second factor, on ``path``."""
    context = scene.new_context(browser, signed_in_as=DESK_EMAIL, totp=app.code(), locale=locale)
    contexts.append(context)
    page = context.new_page()
    page.set_default_timeout(20_000)
    page.goto(scene.url + path)
    return page


def unlock_desk(page: Page, app: Authenticator) -> None:
    """The password, then the TOTP code; the focus then waits in the patient search."""
    expect(page.get_by_label("Adresse e-mail")).to_have_value(DESK_EMAIL)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Déverrouiller").click()
    page.get_by_label(CODE_LABEL).fill(app.code())
    page.get_by_role("button", name="Déverrouiller").click()
    expect(page.get_by_label("Rechercher un patient")).to_be_focused()


def register_ines(scene: Scene, clock: SettableClock) -> None:
    """Inès (who has an account) is a patient of the practice, as after a first booking."""
    with scene.db.write() as session:
        remember_patient(
            session,
            practice_id=scene.world.practice_id,
            patient_id=scene.patient_id,
            now=clock.now(),
        )


def appointments(scene: Scene) -> list[Appointment]:
    with scene.db.read() as session:
        return list(session.scalars(select(Appointment)))


def test_the_desk_books_by_phone_and_the_patient_reads_the_reason(
    browser: Browser, scene: Scene, contexts: list[BrowserContext], clock: SettableClock
) -> None:
    app = desk_secretary(scene, clock)
    register_ines(scene, clock)
    page = desk_page(browser, scene, contexts, app, book_path(scene))
    unlock_desk(page, app)
    page.get_by_label("Rechercher un patient").fill("ines GENOU")
    page.get_by_role("button", name=re.compile("^GENOU Inès")).click()
    expect(page.get_by_text("a un compte")).to_be_visible()
    page.get_by_label("Type de consultation").select_option(label="Consultation (20 min)")
    page.get_by_role("group", name="Prochains créneaux libres").get_by_role("radio").first.check()
    page.get_by_label("3. Motif (chiffré)").fill(REASON)
    page.get_by_role("button", name="Prendre le rendez-vous").click()
    expect(page.get_by_role("heading", name="Rendez-vous pris")).to_be_visible()
    [booked] = appointments(scene)
    assert booked.patient_id == scene.patient_id
    assert booked.source == "practice"
    assert not booked.outside_hours
    assert database_holds(scene.db, REASON) == []
    assert database_holds(scene.db, "Consultation (20 min)") == []

    # Inès's own browser opens the reason the desk sealed for her key.
    mine = open_page(browser, scene, contexts, "/me/appointments")
    expect(mine.locator(f"#reason-{booked.appointment_id}")).to_contain_text("déverrouillez")
    mine.get_by_label("Mot de passe").fill(PASSWORD)
    mine.get_by_role("button", name="Déverrouiller").click()
    reason = mine.locator(f"#reason-{booked.appointment_id}")
    expect(reason.locator(".reason-text")).to_have_text(REASON)
    expect(reason.locator(".author")).to_have_text("Écrit par le cabinet.")


def test_a_phone_booking_with_the_keyboard_only(
    browser: Browser, scene: Scene, contexts: list[BrowserContext], clock: SettableClock
) -> None:
    app = desk_secretary(scene, clock)
    register_ines(scene, clock)
    page = desk_page(browser, scene, contexts, app, book_path(scene))
    expect(page.get_by_label("Mot de passe")).to_be_visible()
    page.get_by_label("Mot de passe").focus()
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_label(CODE_LABEL)).to_be_focused()
    page.keyboard.type(app.code())
    page.keyboard.press("Enter")
    expect(page.get_by_label("Rechercher un patient")).to_be_focused()
    # By her birth date, as the desk often asks; the answer's one button, then on.
    page.keyboard.type("03/02/1984")
    choose = page.get_by_role("button", name=re.compile("^GENOU Inès"))
    expect(choose).to_be_visible()
    while not choose.evaluate("button => button === document.activeElement"):
        page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(page.get_by_label("Praticien")).to_be_focused()
    page.keyboard.press("Tab")  # the visit type: the first, a consultation
    page.keyboard.press("Tab")  # the free slots: the first radio
    page.keyboard.press("Space")
    page.keyboard.press("Tab")
    expect(page.get_by_label("3. Motif (chiffré)")).to_be_focused()
    page.keyboard.type("Renouvellement")
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Prendre le rendez-vous")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Rendez-vous pris")).to_be_visible()
    assert [a.patient_id for a in appointments(scene)] == [scene.patient_id]


def test_the_desk_registers_a_new_patient_then_books(
    browser: Browser, scene: Scene, contexts: list[BrowserContext], clock: SettableClock
) -> None:
    app = desk_secretary(scene, clock)
    page = desk_page(browser, scene, contexts, app, book_path(scene))
    unlock_desk(page, app)
    page.get_by_label("Rechercher un patient").fill("Jean Sanscompte")
    expect(page.get_by_role("status").filter(has_text="Aucun patient")).to_be_visible()
    page.get_by_role("button", name="Nouveau patient").click()
    expect(page.get_by_label("Prénom")).to_be_focused()
    page.get_by_label("Prénom").fill("Jean")
    page.get_by_label("Nom", exact=True).fill("Sanscompte")
    page.get_by_label("Date de naissance").fill("1950-01-01")
    page.get_by_label("Téléphone (facultatif)").fill("06 12 34 56 78")
    page.get_by_role("button", name="Enregistrer le patient").click()
    expect(page.get_by_text("SANSCOMPTE Jean")).to_be_visible()
    page.get_by_role("group", name="Prochains créneaux libres").get_by_role("radio").first.check()
    page.get_by_label("3. Motif (chiffré)").fill("Premier rendez-vous")
    page.get_by_role("button", name="Prendre le rendez-vous").click()
    expect(page.get_by_role("heading", name="Rendez-vous pris")).to_be_visible()
    with scene.db.read() as session:
        patient = session.scalars(select(Patient).where(Patient.last_name == "Sanscompte")).one()
        contact = session.get_one(PracticePatient, (scene.world.practice_id, patient.patient_id))
    assert patient.birth_date == date(1950, 1, 1)
    assert contact.phone == "+33612345678"
    assert [a.patient_id for a in appointments(scene)] == [patient.patient_id]

    # The patient's page at the practice: the record, the appointment, the contact editable.
    page.get_by_role("link", name="Voir le dossier du patient").click()
    expect(page.get_by_role("heading", name="Jean Sanscompte")).to_be_visible()
    expect(page.get_by_role("table")).to_contain_text("Confirmé")
    page.get_by_label("Adresse e-mail", exact=True).fill("Jean@Example.test")
    page.get_by_role("button", name="Enregistrer les coordonnées").click()
    expect(page.get_by_role("status")).to_have_text("Coordonnées enregistrées.")
    with scene.db.read() as session:
        saved = session.get_one(PracticePatient, (scene.world.practice_id, patient.patient_id))
        assert saved.email == "jean@example.test"
        # Someone else changes them meanwhile: this page's next edit is refused, and says so.
        session.close()
    with scene.db.write() as session:
        session.get_one(PracticePatient, (scene.world.practice_id, patient.patient_id)).phone = None
    page.get_by_label("Téléphone").fill("07 00 00 00 01")
    page.get_by_role("button", name="Enregistrer les coordonnées").click()
    expect(page.get_by_role("alert")).to_contain_text("Quelqu'un a modifié ces coordonnées")
    with scene.db.read() as session:
        assert (
            session.get_one(PracticePatient, (scene.world.practice_id, patient.patient_id)).phone
            is None
        )


def test_an_extra_appointment_outside_the_hours_needs_its_confirmation(
    browser: Browser, scene: Scene, contexts: list[BrowserContext], clock: SettableClock
) -> None:
    app = desk_secretary(scene, clock)
    register_ines(scene, clock)
    # As the agenda's "new appointment" sends it: the practitioner and a Saturday, 10:00 in Paris.
    query = f"?practitioner={scene.world.practitioner_id}&starts_at=2026-03-07T09:00:00Z"
    page = desk_page(browser, scene, contexts, app, book_path(scene, query))
    unlock_desk(page, app)
    page.get_by_label("Rechercher un patient").fill("genou")
    page.get_by_role("button", name=re.compile("^GENOU Inès")).click()
    expect(page.get_by_label("Autre heure")).to_be_checked()
    expect(page.get_by_label("Date et heure (heure du cabinet)")).to_have_value("2026-03-07T10:00")
    page.get_by_role("button", name="Prendre le rendez-vous").click()
    expect(page.get_by_role("alert")).to_contain_text("Le cabinet est fermé à cette heure")
    assert appointments(scene) == []
    page.get_by_label("Rendez-vous supplémentaire hors des horaires d'ouverture").check()
    page.get_by_role("button", name="Prendre le rendez-vous").click()
    expect(page.get_by_text("Enregistré comme rendez-vous hors horaires.")).to_be_visible()
    [forced] = appointments(scene)
    assert forced.outside_hours
    assert forced.starts_at.isoformat() == "2026-03-07T09:00:00+00:00"


@pytest.mark.parametrize(("locale", "lang"), [("fr-FR", "fr"), ("en-GB", "en")])
def test_the_desk_pages_pass_axe_in_both_languages(
    browser: Browser,
    scene: Scene,
    contexts: list[BrowserContext],
    clock: SettableClock,
    locale: str,
    lang: str,
) -> None:
    app = desk_secretary(scene, clock)
    register_ines(scene, clock)
    page = desk_page(
        browser, scene, contexts, app, book_path(scene, f"?lang={lang}"), locale=locale
    )
    expect(page.locator("html")).to_have_attribute("lang", lang)
    found: list[Any] = serious_violations(page)
    assert not found, [(v["id"], [n["target"] for n in v["nodes"]]) for v in found]
    # The unlock form in either language, by its fields rather than their labels.
    page.locator("#desk-unlock-password").fill(PASSWORD)
    page.locator("#desk button[type=submit]").click()
    page.locator("#desk input[autocomplete=one-time-code]").fill(app.code())
    page.locator("#desk button[type=submit]").click()
    search = page.locator("#desk-search")
    expect(search).to_be_focused()
    search.fill("genou")
    expect(page.locator(".found button")).to_have_count(1)
    found = serious_violations(page)
    assert not found, [(v["id"], [n["target"] for n in v["nodes"]]) for v in found]
    page.goto(f"{scene.url}/practice/{scene.world.practice_id}/patients/{scene.patient_id}")
    expect(page.locator("h1")).to_have_text("Inès Genou")
    found = serious_violations(page)
    assert not found, [(v["id"], [n["target"] for n in v["nodes"]]) for v in found]


def test_the_desk_pages_are_the_same_404_for_a_patient(
    browser: Browser, scene: Scene, contexts: list[BrowserContext], clock: SettableClock
) -> None:
    register_ines(scene, clock)
    page = open_page(browser, scene, contexts, book_path(scene))
    expect(page.locator("h1")).to_have_text("Page introuvable")
    missing = page.goto(
        f"{scene.url}/practice/{scene.world.practice_id}/patients/{scene.patient_id}"
    )
    assert missing is not None
    assert missing.status == 404


def test_a_preselected_time_after_the_clock_change_is_the_practices_wall_time(
    browser: Browser, scene: Scene, contexts: list[BrowserContext], clock: SettableClock
) -> None:
    """Paris moves to summer time on 29 March, New York (the browser's zone) on 8 March: the
    time field shows and books the practice's 09:00, UTC+2, whatever the browser's zone."""
    app = desk_secretary(scene, clock)
    register_ines(scene, clock)
    query = f"?practitioner={scene.world.practitioner_id}&starts_at=2026-03-30T07:00:00Z"
    page = desk_page(browser, scene, contexts, app, book_path(scene, query))
    unlock_desk(page, app)
    page.get_by_label("Rechercher un patient").fill("genou")
    page.get_by_role("button", name=re.compile("^GENOU Inès")).click()
    expect(page.get_by_label("Date et heure (heure du cabinet)")).to_have_value("2026-03-30T09:00")
    page.get_by_role("button", name="Prendre le rendez-vous").click()
    expect(page.get_by_role("heading", name="Rendez-vous pris")).to_be_visible()
    [booked] = appointments(scene)
    assert booked.starts_at.isoformat() == "2026-03-30T07:00:00+00:00"
    assert not booked.outside_hours
