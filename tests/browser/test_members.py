"""The practice's members page in the browser, against a real server: an admin removes a member,
their browser signs the removal and rotates the key group (a progress bar to the end), the Python
client accepts the epoch the browser made, the item keys sealed before are re-wrapped, and the
removed member's old group key opens nothing sealed after; an admin creates the key group of a
practice that has none; an admin invites and revokes (a secretary, and a practitioner who
already practises at another practice), and ends a member's sessions (a lost browser); a practitioner only reads; each member's
state for the practitioners' key (held, awaited, not for their role), a newcomer shown waiting,
then holding it once a colleague's browser shared it; an admin makes a practitioner a secretary
(by keyboard, the consequence shown first), whose key then opens no note written after the next
practitioner rotates; axe in French and English.
"""

from __future__ import annotations

import re
from typing import Any
from uuid import UUID

import pytest
from playwright.sync_api import Browser, BrowserContext, Locator, Page, expect
from sqlalchemy import select

from colloque.clock import SettableClock
from colloque.crypto.errors import CryptoError
from colloque.crypto.groups import clinical_group_id
from colloque.crypto.items import unwrap_item_key
from colloque.principal import Role
from colloque.records.models import ItemKeyWrap
from colloque.storage.engine import Database
from tests.browser.conftest import serious_violations
from tests.browser.scene import Member, Scene, make_member, phone_booking
from tests.factories import register_at_practice
from tests.functional.keys.conftest import PASSWORD

pytestmark = pytest.mark.browser

BEFORE = "Avant le départ de Sam"
AFTER = "Après le départ de Sam"
#: Records a practice page's progress bar at every change: (aria-valuenow, aria-valuemax).
WATCH_PROGRESS = """() => {
  window.progressSeen = [];
  new MutationObserver(() => {
    const bar = document.querySelector('[role=progressbar]');
    if (bar) window.progressSeen.push([bar.getAttribute('aria-valuenow'), bar.getAttribute('aria-valuemax')]);
  }).observe(document.body, { subtree: true, childList: true, attributes: true });
}"""


def _members_page(
    browser: Browser,
    scene: Scene,
    contexts: list[BrowserContext],
    member: Member,
    *,
    locale: str = "fr-FR",
) -> Page:
    context = member.sign_in(scene, browser, locale=locale)
    contexts.append(context)
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.goto(f"{scene.url}/practice/{scene.world.practice_id}/members?lang={locale[:2]}")
    return page


def _row(page: Page, name: str) -> Locator:
    """The table row whose header is ``name`` (and "(you)" for oneself)."""
    header = page.get_by_role("rowheader", name=re.compile(rf"^{re.escape(name)}( \(.+\))?$"))
    return page.get_by_role("row").filter(has=header)


def _group_wrap(db: Database, item_id: str) -> bytes:
    with db.read() as session:
        wraps = session.scalars(
            select(ItemKeyWrap.wrap)
            .where(ItemKeyWrap.item_id == UUID(item_id))
            .where(ItemKeyWrap.recipient_kind == "practice")
        ).all()
    assert len(wraps) == 1
    return wraps[0]


def _appointment(scene: Scene, booked: dict[str, Any], member: Member) -> str:
    """The reason as the member's own Python client opens it."""
    with member.client(scene) as client:
        appointment = client._request(
            "GET",
            f"/api/v1/practices/{scene.world.practice_id}/appointments/{booked['appointment_id']}",
        )
        return client.read_reason(appointment).reason


def test_an_admin_removes_a_member_and_the_browser_rotates_the_group(
    browser: Browser, scene: Scene, contexts: list[BrowserContext], clock: SettableClock
) -> None:
    practice = scene.world.practice_id
    boss = make_member(scene, clock, "patronne", Role.ADMIN)
    doctor = make_member(scene, clock, "docteur", Role.PRACTITIONER)
    sam = make_member(scene, clock, "sam", Role.SECRETARY)
    with sam.client(scene) as leaver:
        sams_key = leaver.practice_keys.open_group_key(practice)
    assert sams_key.epoch == 1
    register_at_practice(scene.db, clock, scene.world, scene.patient_id)
    with scene.staff() as admin:
        before = phone_booking(scene, admin, BEFORE)

    page = _members_page(browser, scene, contexts, boss)
    expect(_row(page, "Sam")).to_contain_text("Détient la clé actuelle du cabinet (époque 1)")
    expect(_row(page, "Patronne")).to_contain_text("(vous)")
    found = serious_violations(page)
    assert not found, [(v["id"], v["help"]) for v in found]

    boss.unlock(page)
    # By keyboard: the removal asked, the focus on its confirmation, Enter.
    page.get_by_role("button", name="Retirer Sam").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="Retirer", exact=True)).to_be_focused()
    page.evaluate(WATCH_PROGRESS)
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_have_text(
        "Sam ne fait plus partie du cabinet ; la clé est renouvelée."
    )
    expect(_row(page, "Sam")).to_have_count(0)
    expect(_row(page, "Docteur")).to_contain_text("(époque 2)")
    seen = page.evaluate("() => window.progressSeen")
    # Signed, rotated, then the one item key sealed before re-wrapped: three steps of three.
    assert seen, "no progress bar was drawn"
    assert seen[-1] == ["3", "3"], seen

    # The Python client accepts the epoch the browser made: its statement, its wraps.
    with scene.staff() as admin:
        assert admin.practice_keys.open_group_key(practice).epoch == 2
        stale = admin._request("GET", f"/api/v1/practices/{practice}/item-key-wraps/stale")
        assert stale["wraps"] == []
        after = phone_booking(scene, admin, AFTER)
    # A remaining member opens both, the one from before through its re-wrapped key.
    assert _appointment(scene, before, doctor) == BEFORE
    assert _appointment(scene, after, doctor) == AFTER
    # Sam's group key opens nothing sealed after the removal, and their browser has no way in.
    wrap = _group_wrap(scene.db, after["sealed_reason"]["item_id"])
    with pytest.raises(CryptoError):
        unwrap_item_key(wrap, item_id=UUID(after["sealed_reason"]["item_id"]), holder=sams_key)
    context = sam.sign_in(scene, browser)
    contexts.append(context)
    sams_page = context.new_page()
    answer = sams_page.goto(f"{scene.url}/practice/{practice}/agenda")
    assert answer is not None
    assert answer.status == 404


@pytest.mark.parametrize("scene", [{"with_group": False}], indirect=True)
def test_an_admin_creates_the_key_group_in_the_browser(
    browser: Browser, scene: Scene, contexts: list[BrowserContext], clock: SettableClock
) -> None:
    # Nobody signed for the practice yet, as after its set-up: the browser signs the genesis.
    boss = make_member(scene, clock, "patronne", Role.ADMIN, attest=False)
    doctor = make_member(scene, clock, "docteur", Role.PRACTITIONER, attest=False)
    page = _members_page(browser, scene, contexts, boss, locale="en-GB")
    expect(page.get_by_text("This practice has no key group yet.")).to_be_visible()
    boss.unlock(page, lang="en")
    page.get_by_role("button", name="Create the key group").click()
    expect(page.get_by_role("status")).to_have_text("The key group is created.")
    expect(_row(page, "Docteur")).to_contain_text("Holds the practice's current key (epoch 1)")
    found = serious_violations(page)
    assert not found, [(v["id"], v["help"]) for v in found]
    # The Python clients verify the browser's epoch and open it.
    with doctor.client(scene) as client:
        assert client.practice_keys.open_group_key(scene.world.practice_id).epoch == 1
    register_at_practice(scene.db, clock, scene.world, scene.patient_id)
    with scene.staff() as admin:
        booked = phone_booking(scene, admin, BEFORE)
    assert _appointment(scene, booked, doctor) == BEFORE


def test_an_admin_invites_revokes_and_ends_a_members_sessions_and_a_practitioner_only_reads(
    browser: Browser, scene: Scene, contexts: list[BrowserContext], clock: SettableClock
) -> None:
    boss = make_member(scene, clock, "patronne", Role.ADMIN)
    doctor = make_member(scene, clock, "docteur", Role.PRACTITIONER)
    lost = _members_page(browser, scene, contexts, doctor)  # a browser the doctor then loses
    page = _members_page(browser, scene, contexts, boss, locale="en-GB")
    page.get_by_label("Address to invite").fill("nadia@practice.example.test")
    page.get_by_label("Role").select_option(label="Secretary")
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_have_text(
        "Invitation sent to nadia@practice.example.test."
    )
    invitation = page.get_by_role("row").filter(has_text="nadia@practice.example.test")
    expect(invitation).to_contain_text("Secretary")
    found = serious_violations(page)
    assert not found, [(v["id"], v["help"]) for v in found]
    page.get_by_role("button", name="Revoke the invitation of nadia@practice.example.test").click()
    expect(page.get_by_role("status")).to_have_text(
        "The invitation of nadia@practice.example.test is revoked."
    )
    expect(page.get_by_text("No pending invitation.")).to_be_visible()

    # A practitioner of another practice: no agenda of this one to name, they bring their own.
    page.get_by_label("Address to invite").fill("lea@elsewhere.example.test")
    page.get_by_label("Role").select_option(label="Practitioner")
    expect(page.get_by_role("radio", name="A practitioner of this practice")).to_be_checked()
    expect(page.get_by_label("For practitioner")).to_be_visible()
    page.get_by_role("group", name="Which practitioner").get_by_role(
        "radio", name=re.compile(r"^Already practises at another practice on Colloque")
    ).check()
    expect(page.get_by_label("For practitioner")).to_have_count(0)
    found = serious_violations(page)
    assert not found, [(v["id"], v["help"]) for v in found]
    page.get_by_role("button", name="Invite", exact=True).click()
    expect(page.get_by_role("status")).to_have_text(
        "Invitation sent to lea@elsewhere.example.test."
    )
    invitation = page.get_by_role("row").filter(has_text="lea@elsewhere.example.test")
    expect(invitation).to_contain_text("Practitioner")
    expect(invitation).to_contain_text("already practises at another practice on Colloque")
    page.get_by_role("button", name="Revoke the invitation of lea@elsewhere.example.test").click()
    expect(page.get_by_text("No pending invitation.")).to_be_visible()

    # The doctor lost that browser: the admin ends every session of theirs, by keyboard, after a
    # confirmation that has the focus.
    page.get_by_role("button", name="End the sessions of Docteur").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="End the sessions", exact=True)).to_be_focused()
    found = serious_violations(page)
    assert not found, [(v["id"], v["help"]) for v in found]
    page.keyboard.press("Enter")
    # Its browser's, its issued token and its Python client's (the scene shared the key with it).
    expect(page.get_by_role("status")).to_have_text("3 sessions of Docteur were ended.")
    expect(page.get_by_role("button", name="End the sessions of Docteur")).to_be_focused()
    lost.reload()
    expect(lost).to_have_url(re.compile(r"/login\?"))

    reader = _members_page(browser, scene, contexts, doctor)
    expect(_row(reader, "Patronne")).to_contain_text("Administrateur")
    expect(reader.get_by_role("button", name="Retirer Patronne")).to_have_count(0)
    expect(reader.get_by_role("button", name="Fermer les sessions de Patronne")).to_have_count(0)
    expect(reader.get_by_label("Adresse à inviter")).to_have_count(0)
    found = serious_violations(reader)
    assert not found, [(v["id"], v["help"]) for v in found]


def _record_opened(
    browser: Browser, scene: Scene, contexts: list[BrowserContext], member: Member
) -> Locator:
    """A practitioner's browser opens the patient's record and unlocks: it makes the
    practitioners' key, or shares it with practitioners who came since (docs/crypto.md 5.4.1)."""
    context = member.sign_in(scene, browser)
    contexts.append(context)
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.goto(f"{scene.url}/practice/{scene.world.practice_id}/patients/{scene.patient_id}")
    record = page.locator("#practice-record")
    record.locator("#record-unlock-password").fill(PASSWORD)
    record.locator("button[type=submit]").click()
    record.locator("input[autocomplete=one-time-code]").fill(member.authenticator.code())
    record.locator("button[type=submit]").click()
    expect(record.get_by_role("heading", name="Notes")).to_be_visible()
    return record.locator("#clinical-state")


def test_the_practitioners_key_column_shows_a_newcomer_waiting_then_holding_it(
    browser: Browser, scene: Scene, contexts: list[BrowserContext], clock: SettableClock
) -> None:
    boss = make_member(scene, clock, "patronne", Role.ADMIN)
    doctor = make_member(scene, clock, "docteur", Role.PRACTITIONER)
    make_member(scene, clock, "accueil", Role.SECRETARY)
    register_at_practice(scene.db, clock, scene.world, scene.patient_id)
    page = _members_page(browser, scene, contexts, boss)
    expect(page.get_by_role("columnheader", name="Clé des praticiens (notes)")).to_be_visible()
    no_group = (
        "Pas encore de clé des praticiens : le premier praticien qui ouvre un dossier la crée"
    )
    expect(_row(page, "Docteur")).to_contain_text(no_group)

    state = _record_opened(browser, scene, contexts, doctor)
    expect(state).to_contain_text("La clé des praticiens a été créée sur cet appareil")
    late = make_member(scene, clock, "remplacante", Role.PRACTITIONER)
    page.reload()
    held = "Détient la clé des praticiens (époque 1)"
    expect(_row(page, "Docteur")).to_contain_text(held)
    expect(_row(page, "Remplacante")).to_contain_text(
        "En attente : l'appareil d'un confrère doit lui transmettre la clé des praticiens"
    )
    # Still the practice key's holder: the two columns say different things.
    expect(_row(page, "Remplacante")).to_contain_text("Détient la clé actuelle du cabinet")
    not_theirs = "Non concerné : seuls les praticiens détiennent cette clé"
    for name in ("Patronne", "Accueil"):
        expect(_row(page, name)).to_contain_text(not_theirs)
    found = serious_violations(page)
    assert not found, [(v["id"], v["help"]) for v in found]

    # The doctor's browser shares the key the next time it opens a record.
    state = _record_opened(browser, scene, contexts, doctor)
    expect(state).to_have_text(
        "La clé des praticiens a été partagée avec un praticien arrivé depuis."
    )
    page.reload()
    expect(_row(page, "Remplacante")).to_contain_text(held)

    # The newcomer's own page, in English.
    own = _members_page(browser, scene, contexts, late, locale="en-GB")
    expect(own.get_by_role("columnheader", name="Practitioners' key (notes)")).to_be_visible()
    expect(_row(own, "Remplacante")).to_contain_text("Holds the practitioners' key (epoch 1)")
    expect(_row(own, "Accueil")).to_contain_text(
        "Not for this role: only practitioners hold this key"
    )
    found = serious_violations(own)
    assert not found, [(v["id"], v["help"]) for v in found]


NOTE_AFTER = "Écrite après le changement de rôle de Dana"


def test_an_admin_makes_a_practitioner_a_secretary_who_then_opens_no_new_note(
    browser: Browser, scene: Scene, contexts: list[BrowserContext], clock: SettableClock
) -> None:
    practice = scene.world.practice_id
    boss = make_member(scene, clock, "patronne", Role.ADMIN)
    dana = make_member(scene, clock, "dana", Role.PRACTITIONER)
    colleague = make_member(scene, clock, "docteur", Role.PRACTITIONER)
    register_at_practice(scene.db, clock, scene.world, scene.patient_id)
    # The practitioners' group exists (a colleague's client made it); Dana holds its key.
    with colleague.client(scene) as client:
        client.healthy_clinical_key(practice)
    with dana.client(scene) as client:
        danas_key = client.practice_keys.open_group_key(practice, clinical=True)
    assert danas_key.epoch == 1

    page = _members_page(browser, scene, contexts, boss, locale="en-GB")
    boss.unlock(page, lang="en")
    # By keyboard: the change opened, the focus on the new role, the consequence shown first.
    page.get_by_role("button", name="Change the role of Dana").focus()
    page.keyboard.press("Enter")
    choice = page.get_by_label("New role", exact=True)
    expect(choice).to_be_focused()
    choice.select_option(label="Secretary")
    change = page.get_by_role("form", name="New role for Dana")
    expect(change).to_contain_text(
        "Dana will no longer open notes: the practitioners' key will be renewed by the next"
        " practitioner's browser."
    )
    found = serious_violations(page)
    assert not found, [(v["id"], v["help"]) for v in found]
    page.get_by_role("button", name="Change the role", exact=True).focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_have_text("The role of Dana is now: Secretary.")
    expect(page.get_by_role("button", name="Change the role of Dana")).to_be_focused()
    expect(_row(page, "Dana")).to_contain_text("Secretary")

    # The next practitioner rotates the practitioners' key and writes a note: Dana's key opens
    # none of it, and her client is refused notes as a secretary.
    with colleague.client(scene) as client:
        client.write_note(practice_id=practice, patient_id=scene.patient_id, text=NOTE_AFTER)
        assert client.practice_keys.open_group_key(practice, clinical=True).epoch == 2
    with scene.db.read() as session:
        note, wrap = session.execute(
            select(ItemKeyWrap.item_id, ItemKeyWrap.wrap).where(
                ItemKeyWrap.recipient_kind == "practice",
                ItemKeyWrap.recipient_id == clinical_group_id(practice),
            )
        ).one()
    with pytest.raises(CryptoError):
        unwrap_item_key(wrap, item_id=note, holder=danas_key)
    context = dana.sign_in(scene, browser)
    contexts.append(context)
    record = context.new_page()
    record.set_default_timeout(30_000)
    record.goto(f"{scene.url}/practice/{practice}/patients/{scene.patient_id}")
    dana.unlock(record)
    expect(record.get_by_text("Notes : réservé aux praticiens du cabinet.")).to_be_visible()
    expect(record.locator("body")).not_to_contain_text(NOTE_AFTER)


def test_the_role_change_reads_well_in_french(
    browser: Browser, scene: Scene, contexts: list[BrowserContext], clock: SettableClock
) -> None:
    boss = make_member(scene, clock, "patronne", Role.ADMIN)
    make_member(scene, clock, "sam", Role.SECRETARY)
    page = _members_page(browser, scene, contexts, boss)
    boss.unlock(page)
    page.get_by_role("button", name="Changer le rôle de Sam").click()
    expect(page.get_by_label("Nouveau rôle", exact=True)).to_be_focused()
    page.get_by_label("Nouveau rôle", exact=True).select_option(label="Praticien")
    expect(page.get_by_role("form", name="Nouveau rôle de Sam")).to_contain_text(
        "Sam ouvrira les notes quand le navigateur d'un praticien lui aura transmis la clé des"
        " praticiens."
    )
    found = serious_violations(page)
    assert not found, [(v["id"], v["help"]) for v in found]
    page.get_by_label("Agenda du praticien").select_option(index=1)
    page.get_by_role("button", name="Changer le rôle", exact=True).click()
    expect(page.get_by_role("status")).to_have_text("Le rôle de Sam est désormais : Praticien.")
    expect(_row(page, "Sam")).to_contain_text("Praticien")
