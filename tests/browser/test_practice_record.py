"""A patient's record at the practice, in the members' browsers, against a real server: the
practice's patient page unlocks the member's keys (password and TOTP code), then opens the notes,
the conversation with the patient and the documents with the practice group keys, in the crypto
worker. A practitioner writes a note that survives a reload while the database holds only
ciphertext; the patient writes from their own pages and reads the practice's reply; a document the
patient shared comes out of the practitioner's browser byte for byte; a secretary is told that
notes and documents are for practitioners; an item an operator's account signed is refused with
the reason shown; axe passes in both languages."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Locator, Page, expect

from colloque.client import ColloqueClient
from colloque.clock import SettableClock
from colloque.principal import Role
from tests.browser.conftest import serious_violations
from tests.browser.scene import (
    PATIENT_EMAIL,
    Member,
    Scene,
    database_holds,
    make_member,
    open_page,
    operator_swaps_reason,
    phone_booking,
)
from tests.factories import register_at_practice
from tests.functional.keys.conftest import LOG, PASSWORD, add, keyed

pytestmark = pytest.mark.browser

NOTE = "Entorse du ligament latéral, revoir dans 3 semaines — 膝"
FROM_PATIENT = "Bonjour, la douleur revient le soir. Faut-il avancer le rendez-vous ?"
REPLY = "Oui : appelez le secrétariat demain matin, nous vous trouverons un créneau."
PATIENT_FILE = "ordonnance kiné.pdf"
PRACTICE_FILE = "compte rendu IRM genou.pdf"
REASON = "Contrôle après l'entorse, toujours gonflé le soir"
FORGED = "Renouvellement d'arrêt de travail, sans examen"


def _patient_path(scene: Scene) -> str:
    return f"/practice/{scene.world.practice_id}/patients/{scene.patient_id}"


def _record_page(
    browser: Browser,
    scene: Scene,
    contexts: list[BrowserContext],
    member: Member,
    *,
    locale: str = "fr-FR",
) -> Page:
    """The member's browser on the patient's page, their keys unlocked in its record section."""
    context = member.sign_in(scene, browser, locale=locale)
    contexts.append(context)
    page = context.new_page()
    page.set_default_timeout(20_000)
    page.goto(scene.url + _patient_path(scene) + ("" if locale == "fr-FR" else "?lang=en"))
    _unlock(page, member)
    return page


def _unlock(page: Page, member: Member) -> None:
    """The password, then the TOTP code, in either language (by the fields, not their labels)."""
    record = _record(page)
    record.locator("#record-unlock-password").fill(PASSWORD)
    record.locator("button[type=submit]").click()
    record.locator("input[autocomplete=one-time-code]").fill(member.authenticator.code())
    record.locator("button[type=submit]").click()
    expect(record.get_by_role("heading", name="Notes")).to_be_visible()


def _record(page: Page) -> Locator:
    return page.locator("#practice-record")


def _patient_client(scene: Scene) -> ColloqueClient:
    client = ColloqueClient(scene.url, insecure_allow_weak_cost=True)
    client.log_in(PATIENT_EMAIL, PASSWORD)
    return client


def test_a_practitioner_writes_a_note_and_reads_it_after_a_reload(
    browser: Browser, scene: Scene, contexts: list[BrowserContext], clock: SettableClock
) -> None:
    doctor = make_member(scene, clock, "docteur", Role.PRACTITIONER)
    register_at_practice(scene.db, clock, scene.world, scene.patient_id)
    page = _record_page(browser, scene, contexts, doctor)
    record = _record(page)
    expect(record.get_by_text("Aucune note pour l'instant.")).to_be_visible()
    record.get_by_label("Nouvelle note").fill(NOTE)
    record.get_by_role("button", name="Enregistrer la note").click()
    expect(record.get_by_role("status").filter(has_text="Note enregistrée.")).to_be_visible()
    assert database_holds(scene.db, NOTE) == []
    assert database_holds(scene.db, "revoir dans 3 semaines") == []

    page.reload()
    _unlock(page, doctor)
    notes = _record(page).locator(".notes")
    expect(notes).to_contain_text(NOTE)
    expect(notes).to_contain_text("Praticien du cabinet")
    assert serious_violations(page) == []


def test_the_patient_writes_the_practitioner_replies_and_the_patient_reads_it(
    browser: Browser, scene: Scene, contexts: list[BrowserContext], clock: SettableClock
) -> None:
    doctor = make_member(scene, clock, "docteur", Role.PRACTITIONER)
    register_at_practice(scene.db, clock, scene.world, scene.patient_id)
    records_path = f"/me/records/{scene.world.practice_id}/{scene.patient_id}"
    mine = open_page(browser, scene, contexts, records_path)
    mine.get_by_label("Mot de passe").fill(PASSWORD)
    mine.get_by_role("button", name="Déverrouiller").click()
    mine.get_by_label("Votre message").fill(FROM_PATIENT)
    mine.get_by_role("button", name="Envoyer le message").click()
    expect(mine.locator(".thread")).to_contain_text(FROM_PATIENT)

    page = _record_page(browser, scene, contexts, doctor)
    thread = _record(page).locator(".thread")
    expect(thread).to_contain_text(FROM_PATIENT)
    expect(thread).to_contain_text("Le patient")
    # Keyboard only: the reply field, then Tab to its button, Enter.
    _record(page).get_by_label("Votre réponse au patient").focus()
    page.keyboard.type(REPLY)
    page.keyboard.press("Tab")
    expect(_record(page).get_by_role("button", name="Envoyer le message")).to_be_focused()
    page.keyboard.press("Enter")
    expect(thread).to_contain_text(REPLY)
    assert database_holds(scene.db, REPLY) == []
    assert database_holds(scene.db, FROM_PATIENT) == []

    mine.reload()
    mine.get_by_label("Mot de passe").fill(PASSWORD)
    mine.get_by_role("button", name="Déverrouiller").click()
    expect(mine.locator(".thread")).to_contain_text(REPLY)


def test_a_document_the_patient_shared_is_decrypted_by_the_practitioner(
    browser: Browser, scene: Scene, contexts: list[BrowserContext], clock: SettableClock
) -> None:
    doctor = make_member(scene, clock, "docteur", Role.PRACTITIONER)
    register_at_practice(scene.db, clock, scene.world, scene.patient_id)
    content = os.urandom(200 * 1024)
    practice, patient = scene.world.practice_id, scene.patient_id
    with _patient_client(scene) as holder:
        holder.pin_key_directory(origin=LOG.origin, log_public_key=LOG.public_key)
        holder.records.upload_document(
            practice_id=practice,
            patient_id=patient,
            source=io.BytesIO(content),
            name=PATIENT_FILE,
            media_type="application/pdf",
            recipients=holder._recipients(practice, patient, as_holder=True),
            as_holder=True,
        )

    page = _record_page(browser, scene, contexts, doctor)
    record = _record(page)
    record.get_by_role("button", name=f"Déchiffrer {PATIENT_FILE}").click()
    save = record.get_by_role("link", name=f"Enregistrer {PATIENT_FILE}")
    expect(save).to_be_visible()
    with page.expect_download() as download:
        save.click()
    assert download.value.suggested_filename == PATIENT_FILE
    assert Path(download.value.path()).read_bytes() == content


def test_a_secretary_is_told_notes_are_for_practitioners(
    browser: Browser, scene: Scene, contexts: list[BrowserContext], clock: SettableClock
) -> None:
    secretary = make_member(scene, clock, "accueil", Role.SECRETARY)
    register_at_practice(scene.db, clock, scene.world, scene.patient_id)
    page = _record_page(browser, scene, contexts, secretary)
    record = _record(page)
    expect(record.get_by_text("Notes : réservé aux praticiens du cabinet.")).to_be_visible()
    expect(record.get_by_text("Documents : réservé aux praticiens du cabinet.")).to_be_visible()
    expect(record.get_by_label("Nouvelle note")).to_have_count(0)
    expect(record.get_by_role("heading", name="Messages")).to_be_visible()
    assert serious_violations(page) == []


def test_a_message_an_operator_account_signed_is_refused(
    browser: Browser, scene: Scene, contexts: list[BrowserContext], clock: SettableClock
) -> None:
    doctor = make_member(scene, clock, "docteur", Role.PRACTITIONER)
    register_at_practice(scene.db, clock, scene.world, scene.patient_id)
    # An account of the operator's, with properly published keys, and a member on the server's
    # word only: never attested in the practice's signed chain.
    mallory = keyed(scene.db, clock, "mallory")
    add(scene.db, scene.world.practice_id, mallory, Role.SECRETARY)
    with scene.staff(mallory) as forger:
        forger.send_message(
            practice_id=scene.world.practice_id,
            patient_id=scene.patient_id,
            text="Envoyez votre code de carte vitale",
            as_holder=False,
        )

    page = _record_page(browser, scene, contexts, doctor)
    thread = _record(page).locator(".thread")
    expect(thread).to_contain_text("Contenu refusé")
    expect(thread).to_contain_text("ni vous ni un membre reconnu du cabinet")
    expect(thread).not_to_contain_text("carte vitale")


def test_the_record_passes_axe_in_english(
    browser: Browser, scene: Scene, contexts: list[BrowserContext], clock: SettableClock
) -> None:
    doctor = make_member(scene, clock, "docteur", Role.PRACTITIONER)
    register_at_practice(scene.db, clock, scene.world, scene.patient_id)
    page = _record_page(browser, scene, contexts, doctor, locale="en-GB")
    record = _record(page)
    record.get_by_label("New note").fill(NOTE)
    record.get_by_role("button", name="Save the note").click()
    expect(record.get_by_role("status").filter(has_text="Note saved.")).to_be_visible()
    expect(record.get_by_text("Practitioner of the practice")).to_be_visible()
    assert serious_violations(page) == []


def test_the_visit_reasons_open_and_an_operator_swapped_one_is_refused(
    browser: Browser, scene: Scene, contexts: list[BrowserContext], clock: SettableClock
) -> None:
    doctor = make_member(scene, clock, "docteur", Role.PRACTITIONER)
    register_at_practice(scene.db, clock, scene.world, scene.patient_id)
    with scene.staff() as desk:
        booked = phone_booking(scene, desk, REASON)
        swapped = phone_booking(scene, desk, "Premier rendez-vous", starts_at=scene.slots()[0])
    operator_swaps_reason(scene, swapped, clock, FORGED)

    page = _record_page(browser, scene, contexts, doctor)
    honest = page.locator(f"#reason-{booked['appointment_id']}")
    expect(honest).to_contain_text(REASON)
    expect(honest).to_contain_text("Consultation")
    expect(honest).to_contain_text("Écrit par le cabinet")
    refused = page.locator(f"#reason-{swapped['appointment_id']}")
    expect(refused).to_contain_text("ni vous ni un membre reconnu du cabinet")
    expect(refused).not_to_contain_text(FORGED)
    assert serious_violations(page) == []


def test_a_practitioner_adds_a_document_the_patient_decrypts(
    browser: Browser, scene: Scene, contexts: list[BrowserContext], clock: SettableClock
) -> None:
    doctor = make_member(scene, clock, "docteur", Role.PRACTITIONER)
    register_at_practice(scene.db, clock, scene.world, scene.patient_id)
    content = os.urandom(90 * 1024)
    page = _record_page(browser, scene, contexts, doctor)
    record = _record(page)
    record.get_by_label("Fichier à ajouter au dossier").set_input_files(
        {"name": PRACTICE_FILE, "mimeType": "application/pdf", "buffer": content}
    )
    record.get_by_role("button", name="Chiffrer et envoyer").click()
    expect(record.get_by_role("status").filter(has_text="Document envoyé.")).to_be_visible()
    expect(record.get_by_role("button", name=f"Déchiffrer {PRACTICE_FILE}")).to_be_visible()
    assert database_holds(scene.db, PRACTICE_FILE) == []
    assert database_holds(scene.db, content[:64]) == []

    records_path = f"/me/records/{scene.world.practice_id}/{scene.patient_id}"
    mine = open_page(browser, scene, contexts, records_path)
    mine.get_by_label("Mot de passe").fill(PASSWORD)
    mine.get_by_role("button", name="Déverrouiller").click()
    mine.get_by_role("button", name=f"Déchiffrer {PRACTICE_FILE}").click()
    save = mine.get_by_role("link", name=f"Enregistrer {PRACTICE_FILE}")
    with mine.expect_download() as download:
        save.click()
    assert Path(download.value.path()).read_bytes() == content
