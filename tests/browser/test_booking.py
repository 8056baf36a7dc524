"""Booking in the browser, against a real server on loopback.

The practice signs its memberships and has a key group made by its admin's Python client; the
patient's browser gets its session cookies from an API login (the one of tests/web_login.py), unlocks its keys in the worker, and seals the reason for itself and the practice's
key as the worker's key directory client proves it. The practice then opens the reason with
``colloque.client``; the database holds only ciphertext. A slot taken a second earlier shows the
fresh slots; a rolled-back log, or a practice's membership chain rewritten at the same length, is
refused, from the state the browser kept in IndexedDB.
"""

from __future__ import annotations

import gzip
import json
import re

import pytest
from playwright.sync_api import Browser, BrowserContext, expect
from sqlalchemy import delete, select

from colloque.booking.models import Appointment
from colloque.clock import SettableClock
from colloque.keydirectory import services as log_services
from colloque.keydirectory.models import KeyDirectoryCheckpoint, KeyDirectoryLeaf
from colloque.storage.engine import Database
from colloque.web.assets import DEFAULT_DIST_DIR
from tests.browser.conftest import serious_violations
from tests.browser.scene import (
    Scene,
    add_relative,
    attest_a_secretary,
    book,
    database_holds,
    open_page,
    operator_forks_memberships,
    unlock,
)
from tests.functional.keys.conftest import LOG, PASSWORD, keyed

pytestmark = pytest.mark.browser

REASON = "Douleur au genou droit depuis une chute, trois semaines — ひざ"
#: The booking page's first load, gzip: the page's own script and styles plus the worker with
#: libsodium (issue 11's budget).
BOOKING_BUDGET_GZIP = 300 * 1024


def test_a_patient_books_in_the_browser_and_the_practice_reads_the_reason_in_python(
    browser: Browser, scene: Scene, contexts: list[BrowserContext]
) -> None:
    # From the practitioner's page: a slot is a link to the booking page.
    page = open_page(browser, scene, contexts, scene.practitioner_path)
    page.get_by_test_id("slot-days").get_by_role("link").first.click()
    expect(page).to_have_url(re.compile(r".*/book/.*slot=.*"))
    unlock(page)

    # Accessibility of the booking form.
    serious = serious_violations(page)
    assert not serious, [v["id"] for v in serious]

    # Keyboard only from here: visit type, who for, reason, submit.
    page.get_by_label("Motif de consultation").focus()
    page.keyboard.type("Consultation")  # type-ahead on the select: the 20-minute consultation
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    page.keyboard.type(REASON)
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Rendez-vous confirmé")).to_be_focused()
    expect(page.locator(".confirmation")).to_contain_text("Moi-même")

    # The practice opens it with the Python client; the server only ever had ciphertext.
    with scene.db.read() as session:
        appointment_id = session.scalars(select(Appointment.appointment_id)).one()
    with scene.staff() as staff:
        appointment = staff._get(
            f"/api/v1/practices/{scene.world.practice_id}/appointments/{appointment_id}"
        )
        opened = staff.read_reason(appointment)
    assert (opened.reason, opened.visit_type_id) == (REASON, scene.world.consultation_id)
    assert database_holds(scene.db, REASON) == []
    assert database_holds(scene.db, REASON[:20]) == []

    # The key directory state is in IndexedDB: integrity only (a signed note, epochs, sequences).
    saved = page.evaluate(
        """() => new Promise((resolve, reject) => {
            const open = indexedDB.open("colloque-key-directory");
            open.onsuccess = () => {
              const get = open.result.transaction("logs").objectStore("logs").getAll();
              get.onsuccess = () => resolve(get.result);
              get.onerror = () => reject(get.error);
            };
          })"""
    )
    assert len(saved) == 1
    assert saved[0]["checkpoint"]["note"].startswith(LOG.origin)
    assert saved[0]["groupEpochs"] == {str(scene.world.practice_id): 1}
    assert PASSWORD not in json.dumps(saved)
    assert REASON not in json.dumps(saved)


def test_a_patient_books_for_a_relative(
    browser: Browser, scene: Scene, contexts: list[BrowserContext], clock: SettableClock
) -> None:
    child = add_relative(scene.db, clock.now(), "Noé", "Genou")
    page = open_page(browser, scene, contexts, scene.booking_path(scene.slots()[0]))
    unlock(page)
    page.get_by_label("Pour qui ?").select_option(label="Noé Genou")
    book(page, "Fièvre depuis deux jours")
    expect(page.get_by_role("heading", name="Rendez-vous confirmé")).to_be_visible()
    expect(page.locator(".confirmation")).to_contain_text("Noé Genou")
    with scene.db.read() as session:
        booked = session.scalars(select(Appointment)).one()
    assert booked.patient_id == child
    with scene.staff() as staff:
        appointment = staff._get(
            f"/api/v1/practices/{scene.world.practice_id}/appointments/{booked.appointment_id}"
        )
        assert staff.read_reason(appointment).reason == "Fièvre depuis deux jours"


def test_the_slot_just_taken_shows_the_fresh_slots(
    browser: Browser, scene: Scene, contexts: list[BrowserContext]
) -> None:
    slot = scene.slots()[0]
    first, second = (
        open_page(browser, scene, contexts, scene.booking_path(slot)) for _ in range(2)
    )
    for page in (first, second):
        unlock(page)
    book(first, "premier")
    expect(first.get_by_role("heading", name="Rendez-vous confirmé")).to_be_visible()
    book(second, "second")
    expect(second.get_by_role("heading", name="Ce créneau vient d'être pris")).to_be_focused()
    fresh = second.locator(".fresh-slots time")
    expect(fresh.first).to_be_visible()
    assert slot not in fresh.evaluate_all("nodes => nodes.map(n => n.getAttribute('datetime'))")
    assert scene.appointments() == 1

    # A fresh slot takes the place of the lost one, without a reload (the keys stay unlocked).
    chosen = fresh.first.get_attribute("datetime")
    fresh.first.click()
    expect(second.locator(".summary time")).to_have_attribute("datetime", chosen or "")
    expect(second.get_by_role("button", name="Confirmer le rendez-vous")).to_be_enabled()


@pytest.mark.parametrize("scene", [False], indirect=True)
def test_a_practice_that_does_not_sign_its_memberships_is_not_sealed_for(
    browser: Browser, scene: Scene, contexts: list[BrowserContext]
) -> None:
    page = open_page(browser, scene, contexts, scene.booking_path(scene.slots()[0]))
    unlock(page)
    book(page, "jamais envoyé")
    expect(page.get_by_role("alert")).to_contain_text(
        "n'a pas encore signé la liste de ses membres"
    )
    assert scene.appointments() == 0


def _operator_rolls_back(db: Database, size: int) -> None:
    """The operator (database in hand) deletes the log's leaves and checkpoints after ``size``:
    the server then serves its older, properly signed checkpoint of that size."""
    with db.write() as session:
        session.execute(
            delete(KeyDirectoryCheckpoint).where(KeyDirectoryCheckpoint.tree_size > size)
        )
        session.execute(delete(KeyDirectoryLeaf).where(KeyDirectoryLeaf.leaf_index >= size))
    with log_services._caches_lock:
        log_services._caches.clear()


def test_a_rolled_back_log_is_refused_after_a_reload(
    browser: Browser, scene: Scene, contexts: list[BrowserContext], clock: SettableClock
) -> None:
    with scene.db.read() as session:
        before = len(session.scalars(select(KeyDirectoryLeaf.leaf_index)).all())
    # The log grows (an account signs up), and the browser sees it while booking.
    keyed(scene.db, clock, "newcomer")
    slots = scene.slots()
    page = open_page(browser, scene, contexts, scene.booking_path(slots[0]))
    unlock(page)
    book(page, "avant")
    expect(page.get_by_role("heading", name="Rendez-vous confirmé")).to_be_visible()

    _operator_rolls_back(scene.db, before)
    # A reload: a new worker, no keys, only what IndexedDB kept.
    page.goto(scene.url + scene.booking_path(slots[1]))
    unlock(page)
    book(page, "après")
    expect(page.get_by_role("alert")).to_contain_text("L'annuaire des clés n'a pas pu être vérifié")
    assert scene.appointments() == 1


def test_a_rewritten_membership_chain_is_refused_after_a_reload(
    browser: Browser, scene: Scene, contexts: list[BrowserContext], clock: SettableClock
) -> None:
    attest_a_secretary(scene, clock)
    slots = scene.slots()
    page = open_page(browser, scene, contexts, scene.booking_path(slots[0]))
    unlock(page)
    book(page, "avant")
    expect(page.get_by_role("heading", name="Rendez-vous confirmé")).to_be_visible()

    # The server now serves a chain of the same length, every link signed by the admin, whose
    # last link is another: only the head the browser kept in IndexedDB tells them apart.
    with scene.staff() as staff:
        operator_forks_memberships(
            scene.db, clock, scene.world.practice_id, staff.unlocked_keys, serve_honest=False
        )
    page.goto(scene.url + scene.booking_path(slots[1]))
    unlock(page)
    book(page, "après")
    expect(page.get_by_role("alert")).to_contain_text("L'annuaire des clés n'a pas pu être vérifié")
    assert scene.appointments() == 1


def test_the_booking_page_first_load_fits_the_budget() -> None:
    """Built sizes are deterministic: the booking entry's script and styles, the site's styles
    and the crypto worker (libsodium inside), gzip-compressed."""
    manifest = json.loads((DEFAULT_DIST_DIR / ".vite" / "manifest.json").read_text())
    entry = manifest["src/booking.ts"]
    files = {entry["file"], *entry.get("css", []), manifest["src/pages.css"]["file"]}
    for chunk in entry.get("imports", []):
        files.add(manifest[chunk]["file"])
    files |= {
        p.relative_to(DEFAULT_DIST_DIR).as_posix()
        for p in (DEFAULT_DIST_DIR / "assets").glob("crypto-worker-*.js")
    }
    total = sum(len(gzip.compress((DEFAULT_DIST_DIR / f).read_bytes(), 9)) for f in files)
    assert total < BOOKING_BUDGET_GZIP, total
    # The inline log-in and sign-up forms are chunks loaded on demand; the password estimator
    # (zxcvbn, whose keyboard patterns hold "qwerty") comes only with the sign-up one.
    lazy = {manifest[chunk]["name"] for chunk in entry.get("dynamicImports", [])}
    assert lazy == {"Login", "Signup"}
    assert not [f for f in files if b"qwerty" in (DEFAULT_DIST_DIR / f).read_bytes()]
