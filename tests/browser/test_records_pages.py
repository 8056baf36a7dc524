"""Messages and documents in the browser, against a real server on loopback.

The practice signs its memberships (its admin's Python client makes the key group, attesting the
practitioner). The patient's browser unlocks its keys, opens what the practitioner sent with
``colloque.client`` (a message and a document: the same bytes come out of the Blob URL), and
writes and shares back: the practitioner's Python client opens the message and downloads the
very bytes the browser encrypted. The database holds only ciphertext. A message from a secretary
the practice never attested is shown as refused, not opened.
"""

from __future__ import annotations

import io
import os
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from uuid import UUID

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from colloque.accounts.services import do_add_member
from colloque.client import ColloqueClient
from colloque.clock import SettableClock
from colloque.crypto.authorship import Standing
from colloque.principal import Role
from colloque.storage.engine import Database
from colloque.web.app import create_app
from colloque.worker import run_cycle
from tests.browser.conftest import serious_violations
from tests.browser.scene import PATIENT_EMAIL, database_holds, make_patient, scene_settings
from tests.factories import World, build_world, register_at_practice
from tests.functional.keys.conftest import LOG, PASSWORD, Keyed, add, keyed
from tests.server import running_server
from tests.smtp import Inbox
from tests.web_login import sign_in_browser

pytestmark = pytest.mark.browser

FROM_PRACTICE = "Vos résultats sont arrivés — rien d'inquiétant, ひざ"
FROM_PATIENT = "Merci docteur, je joins l'ordonnance de mon kiné"
UNATTESTED = "Rappel de rendez-vous (secrétariat non attesté)"
PRACTICE_FILE = "compte rendu radiographie.pdf"
PATIENT_FILE = "ordonnance kiné scannée.png"


@dataclass
class Scene:
    url: str
    db: Database
    world: World
    doctor: Keyed
    secretary: Keyed
    patient_id: UUID
    requests: list[str] = field(default_factory=list)

    def client(self, person: Keyed) -> ColloqueClient:
        """A member on a device of their own, with the Python client."""
        client = ColloqueClient(self.url, insecure_allow_weak_cost=True)
        client.log_in(person.email, PASSWORD)
        client._token = person.token  # MFA-satisfied, as practice actions need
        client.pin_key_directory(origin=LOG.origin, log_public_key=LOG.public_key)
        return client

    @property
    def page_path(self) -> str:
        return f"/me/records/{self.world.practice_id}/{self.patient_id}"


@pytest.fixture
def scene(sqlite_db: Database, clock: SettableClock, inbox: Inbox) -> Iterator[Scene]:
    db = sqlite_db
    world = build_world(db, clock)
    run_cycle(db, clock, batch=100)
    app = create_app(scene_settings(inbox), database=db, clock=clock)
    with running_server(app) as url:
        admin = keyed(db, clock, "admin")
        add(db, world.practice_id, admin, Role.ADMIN)
        doctor = keyed(db, clock, "doctor")
        with db.write() as session:
            do_add_member(
                session,
                practice_id=world.practice_id,
                account_id=doctor.account_id,
                role=Role.PRACTITIONER,
                practitioner_id=world.practitioner_id,
            )
        patient_id = make_patient(db, clock.now())
        register_at_practice(db, clock, world, patient_id)
        scene = Scene(url, db, world, doctor, keyed(db, clock, "secretary"), patient_id)
        with scene.client(admin) as staff:
            staff.practice_keys.create_group(world.practice_id)  # attests the doctor
        # Added after the chain was signed, and never attested: a member on the server's word.
        add(db, world.practice_id, scene.secretary, Role.SECRETARY)
        yield scene


@pytest.fixture
def context(browser: Browser, scene: Scene) -> Iterator[BrowserContext]:
    context = browser.new_context(locale="fr-FR", accept_downloads=True)
    context.on("request", lambda request: scene.requests.append(request.url))
    sign_in_browser(context, scene.url, PATIENT_EMAIL)
    yield context
    context.close()
    # A Blob URL this page made is of its own origin: blob:http://127.0.0.1:port/...
    own = (scene.url + "/", f"blob:{scene.url}/")
    foreign = [url for url in scene.requests if not url.startswith(own)]
    assert not foreign, f"requests left for another origin: {foreign}"


def _unlock(page: Page) -> None:
    # The page names the signed-in account: only the password is typed.
    expect(page.get_by_label("Adresse e-mail")).to_have_value(PATIENT_EMAIL)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Déverrouiller").click()
    expect(page.get_by_role("heading", name="Messages", exact=True)).to_be_visible()


def _png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            len(data).to_bytes(4, "big") + kind + data + zlib.crc32(kind + data).to_bytes(4, "big")
        )

    header = (1).to_bytes(4, "big") * 2 + bytes((8, 2, 0, 0, 0))
    pixels = zlib.compress(b"\x00\x00\x80\x00")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def _axe(page: Page) -> None:
    serious = [violation["id"] for violation in serious_violations(page)]
    assert not serious, serious


def test_documents_and_messages_round_trip_between_the_browser_and_python(
    scene: Scene, context: BrowserContext
) -> None:
    with scene.client(scene.doctor) as doctor:
        _round_trip(scene, context, doctor)


def _round_trip(scene: Scene, context: BrowserContext, doctor: ColloqueClient) -> None:
    practice, patient = scene.world.practice_id, scene.patient_id
    # 150 KiB that cannot compress: two full chunks and a final one.
    from_practice = os.urandom(150 * 1024)
    # A real 1x1 PNG (browsers ignore what follows its end), to be opened in a tab below.
    from_patient = _png() + os.urandom(70 * 1024)
    doctor.send_message(
        practice_id=practice, patient_id=patient, text=FROM_PRACTICE, as_holder=False
    )
    doctor.records.upload_document(
        practice_id=practice,
        patient_id=patient,
        source=io.BytesIO(from_practice),
        name=PRACTICE_FILE,
        media_type="application/pdf",
        recipients=doctor._recipients(practice, patient, as_holder=False),
    )

    # From the signed-in navigation to this practice's messages and documents.
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.goto(scene.url + "/me/appointments")
    page.get_by_role("navigation", name="Mon espace").get_by_role(
        "link", name="Messages et documents"
    ).click()
    page.get_by_role("link", name="Messages et documents : vous-même").click()
    expect(page).to_have_url(re.compile(re.escape(scene.page_path) + "$"))
    _unlock(page)

    thread = page.locator(".thread")
    expect(thread).to_contain_text(FROM_PRACTICE)
    expect(thread).to_contain_text("Cabinet du Test")
    _axe(page)

    # The practice's document: decrypted in the worker, the same bytes out of the Blob URL.
    page.get_by_role("button", name=f"Déchiffrer {PRACTICE_FILE}").click()
    save = page.get_by_role("link", name=f"Enregistrer {PRACTICE_FILE}")
    expect(save).to_be_visible()
    opened = page.get_by_role("link", name=f"Ouvrir {PRACTICE_FILE}")
    assert (opened.get_attribute("target"), opened.get_attribute("rel")) == ("_blank", "noopener")
    assert (save.get_attribute("href") or "").startswith("blob:" + scene.url)
    with page.expect_download() as download:
        save.click()
    assert download.value.suggested_filename == PRACTICE_FILE
    assert Path(download.value.path()).read_bytes() == from_practice

    # Keyboard only: the message field, then Tab to its button, Enter.
    page.get_by_label("Votre message").focus()
    page.keyboard.type(FROM_PATIENT)
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Envoyer le message")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("status").filter(has_text="Message envoyé.")).to_be_visible()
    expect(thread).to_contain_text(FROM_PATIENT)

    # A file shared with the practice, with its progress shown while it goes.
    page.get_by_label("Fichier à partager avec le cabinet").set_input_files(
        {"name": PATIENT_FILE, "mimeType": "image/png", "buffer": from_patient}
    )
    page.get_by_role("button", name="Chiffrer et envoyer").click()
    expect(page.get_by_role("status").filter(has_text="Document envoyé.")).to_be_visible()
    expect(page.locator(".documents")).to_contain_text(PATIENT_FILE)
    _axe(page)

    # Opened in a tab from its Blob URL, under the page's own policy (no CSP change needed).
    page.get_by_role("button", name=f"Déchiffrer {PATIENT_FILE}").click()
    with context.expect_page() as tab:
        page.get_by_role("link", name=f"Ouvrir {PATIENT_FILE}").click()
    tab.value.wait_for_load_state()
    assert tab.value.url.startswith("blob:" + scene.url)
    assert tab.value.evaluate("() => document.querySelector('img')?.naturalWidth") == 1
    tab.value.close()

    # The practitioner's Python client opens both, the author being the holder.
    messages = doctor.read_messages(practice_id=practice, patient_id=patient, as_holder=False)
    mine = [m for m in messages if m.text == FROM_PATIENT]
    assert [m.author_standing for m in mine] == [Standing.HOLDER]
    entries = doctor.records.list_documents(
        practice_id=practice,
        patient_id=patient,
        authors=doctor._author_key,
        standing=doctor.standing_check(practice, patient, as_holder=False),
        group_keys=doctor._group_keys(practice, as_holder=False),
    )
    (shared,) = [e for e in entries if e.info.name == PATIENT_FILE]
    assert (shared.info.media_type, shared.author_standing) == ("image/png", Standing.HOLDER)
    sink = io.BytesIO()
    doctor.records.download_document(
        practice_id=practice, patient_id=patient, document=shared, target=sink
    )
    assert sink.getvalue() == from_patient

    # The server kept ciphertext only: no text, no file name, no file content.
    for needle in (FROM_PRACTICE, FROM_PATIENT, PRACTICE_FILE, PATIENT_FILE, "kiné"):
        assert database_holds(scene.db, needle) == [], needle


def test_a_message_from_a_member_the_practice_never_attested_is_refused(
    scene: Scene, context: BrowserContext
) -> None:
    practice, patient = scene.world.practice_id, scene.patient_id
    with scene.client(scene.doctor) as doctor:
        doctor.send_message(
            practice_id=practice, patient_id=patient, text=FROM_PRACTICE, as_holder=False
        )
    with scene.client(scene.secretary) as desk:
        desk.send_message(
            practice_id=practice, patient_id=patient, text=UNATTESTED, as_holder=False
        )
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.goto(scene.url + scene.page_path)
    _unlock(page)
    thread = page.locator(".thread")
    # A valid signature, but no standing in the practice's signed chain: refused, not opened;
    # the rest of the thread still opens.
    expect(thread).to_contain_text(FROM_PRACTICE)
    expect(thread).to_contain_text("Contenu refusé")
    expect(thread).to_contain_text("ni un membre reconnu du cabinet")
    expect(thread).not_to_contain_text(UNATTESTED)


def test_a_file_over_the_limit_is_refused_before_anything_is_sent(
    scene: Scene, context: BrowserContext
) -> None:
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.goto(scene.url + scene.page_path + "?lang=en")
    expect(page.get_by_label("Email address")).to_have_value(PATIENT_EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Unlock").click()
    expect(page.get_by_text("No message yet.")).to_be_visible()
    expect(page.get_by_text("Up to 100 MB")).to_be_visible()
    # A sparse file just over 100 MiB would be slow to hand over; the page reads only its size.
    page.evaluate(
        """() => {
          const input = document.getElementById("document-file");
          const big = new File([new Uint8Array(8)], "scan.pdf", { type: "application/pdf" });
          Object.defineProperty(big, "size", { value: 100 * 1024 * 1024 + 1 });
          const files = new DataTransfer();
          files.items.add(big);
          Object.defineProperty(input, "files", { value: files.files });
          input.dispatchEvent(new Event("change", { bubbles: true }));
        }"""
    )
    uploads = len([u for u in scene.requests if "/documents/" in u])
    page.get_by_role("button", name="Encrypt and send").click()
    expect(page.get_by_role("alert")).to_contain_text("over 100 MB")
    assert len([u for u in scene.requests if "/documents/" in u]) == uploads
