"""The practitioners' key group (notes) in the browser, against a real server: a practitioner's
browser makes the group when it opens a patient's record and seals notes to it, never to the
practice group; a practitioner who joins later waits, without a crash, until a colleague's browser
shares the key, then reads the note; a secretary's page says notes are for practitioners and the
secretary's own worker, handed a note's envelope and every wrap the server stores, opens none of
it; after an admin removes a practitioner, the next practitioner's browser rotates the group and
re-wraps the notes, the removed one's key opens nothing written after, and the browser refuses
the older epoch served as current once it saw the newer one; a note sealed to the practice group
before the practitioners' group existed still opens. axe in both languages on the record and the
agenda, which say which items each role can open."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from uuid import UUID, uuid4

import pytest
from playwright.sync_api import Browser, BrowserContext, Locator, Page, expect
from sqlalchemy import select

from colloque.client.encoding import unb64
from colloque.clock import SettableClock
from colloque.crypto.errors import CryptoError
from colloque.crypto.groups import GroupKey, clinical_group_id
from colloque.crypto.items import seal_note, unwrap_item_key
from colloque.crypto.transparency import LEAF_BYTES, KeyBinding, KeyPurpose
from colloque.principal import Role
from colloque.records.models import ItemKeyWrap, SealedItemRow
from colloque.storage.engine import Database
from tests.browser.conftest import serious_violations
from tests.browser.scene import Member, Scene, holder_account, make_member
from tests.browser.worker_harness import (
    TEST_DIST_DIR,
    Harness,
    binding_json,
    call,
    failure,
    hexed,
    open_harness,
    ready_page,
    serve,
)
from tests.factories import register_at_practice
from tests.functional.keys.conftest import LOG, PASSWORD

pytestmark = pytest.mark.browser

FIRST = "Tendinite d'Achille, repos 10 jours, revoir si douleur nocturne"
SECOND = "Échographie normale ; reprise progressive de la course"
FROM_PYTHON = "Ordonnance : kinésithérapie, 10 séances (excentrique)"


@pytest.fixture
def harness(sqlite_db: Database, clock: SettableClock) -> Iterator[Harness]:
    yield from serve(sqlite_db, clock, TEST_DIST_DIR)


@pytest.fixture
def worker(browser: Browser, harness: Harness) -> Iterator[Page]:
    """A crypto worker of the test build, on a page of its own (the harness)."""
    yield from ready_page(browser, harness)


def _record(page: Page) -> Locator:
    return page.locator("#practice-record")


def _open_record(
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
    path = f"/practice/{scene.world.practice_id}/patients/{scene.patient_id}"
    page.goto(scene.url + path + ("" if locale == "fr-FR" else "?lang=en"))
    _unlock(page, member)
    return page


def _unlock(page: Page, member: Member) -> None:
    record = _record(page)
    record.locator("#record-unlock-password").fill(PASSWORD)
    record.locator("button[type=submit]").click()
    record.locator("input[autocomplete=one-time-code]").fill(member.authenticator.code())
    record.locator("button[type=submit]").click()
    expect(record.get_by_role("heading", name="Notes")).to_be_visible()


def _reopen(page: Page, member: Member) -> None:
    page.reload()
    _unlock(page, member)


def _write(page: Page, text: str, *, lang: str = "fr") -> None:
    label, button, saved = {
        "fr": ("Nouvelle note", "Enregistrer la note", "Note enregistrée."),
        "en": ("New note", "Save the note", "Note saved."),
    }[lang]
    record = _record(page)
    record.get_by_label(label).fill(text)
    record.get_by_role("button", name=button).click()
    expect(record.get_by_role("status").filter(has_text=saved)).to_be_visible()


def _clinical_state(page: Page) -> Locator:
    return _record(page).locator("#clinical-state")


def _notes(db: Database) -> list[UUID]:
    """The notes' item ids, oldest first."""
    with db.read() as session:
        return list(
            session.scalars(
                select(SealedItemRow.item_id)
                .where(SealedItemRow.kind == "note")
                .order_by(SealedItemRow.created_at)
            ).all()
        )


def _wraps(db: Database, item_id: UUID) -> list[ItemKeyWrap]:
    with db.read() as session:
        rows = session.scalars(select(ItemKeyWrap).where(ItemKeyWrap.item_id == item_id)).all()
        session.expunge_all()
        return list(rows)


def _group_wraps(scene: Scene, item_id: UUID) -> list[ItemKeyWrap]:
    return [w for w in _wraps(scene.db, item_id) if w.recipient_kind == "practice"]


def _clinical_key(scene: Scene, member: Member) -> GroupKey:
    """The member's current practitioners' key, as their own Python client opens it: the epoch
    the browser made, its statement verified (verify_clinical_epoch) and its wrap opened."""
    with member.client(scene) as client:
        return client.practice_keys.open_group_key(scene.world.practice_id, clinical=True)


def test_a_note_is_sealed_to_the_practitioners_and_a_newcomer_reads_it_once_shared(
    browser: Browser, scene: Scene, contexts: list[BrowserContext], clock: SettableClock
) -> None:
    practice = scene.world.practice_id
    clinical = clinical_group_id(practice)
    doctor = make_member(scene, clock, "docteur", Role.PRACTITIONER)
    register_at_practice(scene.db, clock, scene.world, scene.patient_id)
    page = _open_record(browser, scene, contexts, doctor)
    expect(_clinical_state(page)).to_have_text(
        "La clé des praticiens a été créée sur cet appareil et partagée avec chaque praticien"
        " qui a des clés."
    )
    _write(page, FIRST)
    expect(_record(page).locator(".notes")).to_contain_text(FIRST)

    (note,) = _notes(scene.db)
    groups = _group_wraps(scene, note)
    # Sealed for the practitioners' group, at its first epoch; never for the practice group.
    assert [(w.recipient_id, w.epoch) for w in groups] == [(clinical, 1)]
    assert all(w.recipient_id != practice for w in _wraps(scene.db, note))
    # The Python side opens the browser-made key and, with it, the note's item key.
    key = _clinical_key(scene, doctor)
    assert key.epoch == 1
    unwrap_item_key(groups[0].wrap, item_id=note, holder=key)
    # The Python client accepts the browser's epoch and seals its own note to the same group.
    with doctor.client(scene) as client:
        assert client.key_directory.clinical_key(practice).epoch == 1
        client.write_note(practice_id=practice, patient_id=scene.patient_id, text=FROM_PYTHON)

    # A practitioner who joins later holds the practice key but not yet the practitioners'.
    late = make_member(scene, clock, "remplacante", Role.PRACTITIONER)
    waiting = _open_record(browser, scene, contexts, late)
    expect(_clinical_state(waiting)).to_contain_text(
        "En attente de l'appareil d'un confrère pour recevoir la clé des praticiens"
    )
    notes = _record(waiting).locator(".notes")
    expect(notes).to_contain_text("En attente de l'appareil d'un confrère.")
    expect(notes).not_to_contain_text(FIRST)
    expect(_record(waiting).get_by_label("Nouvelle note")).to_have_count(0)
    assert serious_violations(waiting) == []

    # The first practitioner's browser shares it the next time it opens a record.
    _reopen(page, doctor)
    expect(_clinical_state(page)).to_have_text(
        "La clé des praticiens a été partagée avec un praticien arrivé depuis."
    )
    _reopen(waiting, late)
    expect(_clinical_state(waiting)).to_have_text(
        "Les notes sont chiffrées pour la clé des praticiens : le secrétariat et les"
        " administrateurs ne peuvent pas les ouvrir."
    )
    expect(_record(waiting).locator(".notes")).to_contain_text(FIRST)
    expect(_record(waiting).locator(".notes")).to_contain_text(FROM_PYTHON)
    _write(waiting, SECOND)
    expect(_record(waiting).locator(".notes")).to_contain_text(SECOND)
    assert _clinical_key(scene, late).epoch == 1
    # And the newcomer's Python client opens what both browsers wrote.
    with late.client(scene) as client:
        read = client.read_notes(practice_id=practice, patient_id=scene.patient_id, as_holder=False)
    assert sorted(note.text for note in read) == sorted([FIRST, FROM_PYTHON, SECOND])


def test_a_secretary_cannot_open_a_note_even_with_every_wrap(
    browser: Browser,
    scene: Scene,
    contexts: list[BrowserContext],
    clock: SettableClock,
    worker: Page,
) -> None:
    practice = scene.world.practice_id
    doctor = make_member(scene, clock, "docteur", Role.PRACTITIONER)
    secretary = make_member(scene, clock, "accueil", Role.SECRETARY)
    register_at_practice(scene.db, clock, scene.world, scene.patient_id)
    _write(_open_record(browser, scene, contexts, doctor), FIRST)
    (note,) = _notes(scene.db)

    page = _open_record(browser, scene, contexts, secretary)
    record = _record(page)
    expect(record.get_by_text("Notes : réservé aux praticiens du cabinet.")).to_be_visible()
    expect(
        record.get_by_text("Les notes sont chiffrées pour la clé des praticiens")
    ).to_be_visible()
    access = record.locator("#record-access-notes")
    expect(access).to_contain_text("Les praticiens seulement (clé des praticiens)")
    expect(access).to_contain_text("Réservé à un autre rôle")
    expect(record.locator("#record-access-reasons")).to_contain_text("Vous pouvez les ouvrir")
    assert serious_violations(page) == []

    # The secretary's own worker: their keys unlocked from their password, their wrap of the
    # practice key opened, then the note's envelope and every wrap the server stores for it.
    with secretary.client(scene) as client:
        params, _ = client._prelogin(secretary.email)
        sealed = client._sealed_by_password
        assert sealed is not None
        practice_group = client._request("GET", f"/api/v1/practices/{practice}/key-group")
        author = client.key_directory.user_keys(doctor.person.account_id)
    derived = call(worker, "deriveLoginKeys", {"password": PASSWORD, "kdfParams": hexed(params)})
    keys = call(
        worker,
        "unlockWithKek",
        {
            "kek": derived["kek"],
            "userId": str(secretary.person.account_id),
            "sealedByPassword": hexed(sealed),
        },
    )
    current = practice_group["binding"]
    practice_key = call(
        worker,
        "openGroupKey",
        {
            "keys": keys["keys"],
            "wrap": hexed(unb64(practice_group["wraps"][0]["wrap"])),
            "expected": {
                "subjectKind": 2,
                "subjectId": str(practice),
                "purpose": 1,
                "epoch": practice_group["epoch"],
                "publicKey": hexed(unb64(current["public_key"])),
            },
            "lastSeenEpoch": 0,
        },
    )
    with scene.db.read() as session:
        envelope = session.get_one(SealedItemRow, (practice, note)).envelope
    stored = _wraps(scene.db, note)
    assert {w.recipient_kind for w in stored} == {"user", "practice"}
    for wrap in stored:
        for holder in (keys["keys"], practice_key["group"]):
            refused = failure(
                worker,
                "openNote",
                {
                    "holder": holder,
                    "wrap": hexed(wrap.wrap),
                    "envelope": hexed(envelope),
                    "itemId": str(note),
                    "patientId": str(scene.patient_id),
                    "author": binding_json(author.bindings[KeyPurpose.SIGNING]),
                },
            )
            assert refused in {"WrongContext", "DecryptionFailed"}


def test_a_note_sealed_to_the_practice_group_before_still_opens(
    browser: Browser, scene: Scene, contexts: list[BrowserContext], clock: SettableClock
) -> None:
    """A note stored before the practitioners' group existed (sealed to the practice group, as
    every note was) opens with the practice key beside the new ones sealed to the group."""
    practice = scene.world.practice_id
    doctor = make_member(scene, clock, "docteur", Role.PRACTITIONER)
    register_at_practice(scene.db, clock, scene.world, scene.patient_id)
    holder = holder_account(scene)
    with doctor.client(scene) as client:
        directory = client.key_directory
        holder_key = directory.user_keys(holder).bindings[KeyPurpose.ENCRYPTION]
        practice_key = directory.practice_key(practice)
        item_id = uuid4()
        sealed = seal_note(
            item_id=item_id,
            patient_id=scene.patient_id,
            text=FIRST,
            author=client.unlocked_keys,
            recipients=[holder_key, practice_key],
        )
    with scene.db.write() as session:
        session.add(
            SealedItemRow(
                practice_id=practice,
                item_id=item_id,
                kind="note",
                patient_id=scene.patient_id,
                context_id=scene.patient_id,
                author_account_id=doctor.person.account_id,
                envelope=sealed.envelope,
                size_bytes=len(sealed.envelope),
                created_at=clock.now(),
            )
        )
        session.flush()
        for (kind, recipient, epoch), wrap in zip(
            (("user", holder, holder_key.epoch), ("practice", practice, practice_key.epoch)),
            sealed.wraps,
            strict=True,
        ):
            session.add(
                ItemKeyWrap(
                    practice_id=practice,
                    item_id=item_id,
                    recipient_kind=kind,
                    recipient_id=recipient,
                    epoch=epoch,
                    wrap=wrap,
                )
            )

    page = _open_record(browser, scene, contexts, doctor)
    notes = _record(page).locator(".notes")
    expect(notes).to_contain_text(FIRST)
    expect(notes).to_contain_text("Praticien du cabinet")
    _write(page, SECOND)
    expect(notes).to_contain_text(SECOND)
    expect(notes).to_contain_text(FIRST)
    later = _notes(scene.db)[-1]
    assert [w.recipient_id for w in _group_wraps(scene, later)] == [clinical_group_id(practice)]


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_the_agenda_says_which_items_each_role_opens(
    browser: Browser,
    scene: Scene,
    contexts: list[BrowserContext],
    clock: SettableClock,
    lang: str,
) -> None:
    secretary = make_member(scene, clock, "accueil", Role.SECRETARY)
    doctor = make_member(scene, clock, "docteur", Role.PRACTITIONER)
    expected = {
        "fr": ("Qui peut ouvrir quoi", "Réservé à un autre rôle", "Vous pouvez les ouvrir"),
        "en": ("Who can open what", "For another role", "You can open them"),
    }[lang]
    for member, notes in ((secretary, expected[1]), (doctor, expected[2])):
        context = member.sign_in(scene, browser, locale="fr-FR" if lang == "fr" else "en-GB")
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(30_000)
        page.goto(f"{scene.url}/practice/{scene.world.practice_id}/agenda?lang={lang}")
        legend = page.get_by_role("table", name=expected[0])
        expect(legend).to_be_visible()
        expect(legend.locator("#agenda-access-reasons")).to_contain_text(expected[2])
        expect(legend.locator("#agenda-access-notes")).to_contain_text(notes)
        found = serious_violations(page)
        assert not found, [(v["id"], v["help"]) for v in found]


def test_after_a_removal_the_next_practitioner_rotates_and_the_removed_key_opens_nothing_new(
    browser: Browser,
    scene: Scene,
    contexts: list[BrowserContext],
    clock: SettableClock,
    harness: Harness,
    worker: Page,
) -> None:
    practice = scene.world.practice_id
    doctor = make_member(scene, clock, "docteur", Role.PRACTITIONER)
    leaver = make_member(scene, clock, "partant", Role.PRACTITIONER)
    register_at_practice(scene.db, clock, scene.world, scene.patient_id)
    page = _open_record(browser, scene, contexts, doctor, locale="en-GB")
    _write(page, FIRST, lang="en")
    (before,) = _notes(scene.db)
    # The leaver's device opened the practitioners' key while a member (epoch 1).
    with leaver.client(scene) as client:
        leavers = client._request("GET", f"/api/v1/practices/{practice}/clinical-key-group")
        params, _ = client._prelogin(leaver.email)
        sealed = client._sealed_by_password
        assert sealed is not None
    assert leavers["epoch"] == 1
    old_key = _clinical_key(scene, leaver)

    with scene.staff() as admin:
        admin.practice_keys.remove_member(practice, leaver.person.account_id)

    _reopen(page, doctor)
    expect(_clinical_state(page)).to_have_text(
        "The practitioners' key was renewed after someone left; notes written before stay readable."
    )
    expect(_record(page).locator(".notes")).to_contain_text(FIRST)
    _write(page, SECOND, lang="en")
    assert serious_violations(page) == []
    first, after = _notes(scene.db)
    assert first == before
    # The note from before was re-wrapped for epoch 2; the new one is sealed at epoch 2 only.
    assert [w.epoch for w in _group_wraps(scene, before)] == [2]
    (new_wrap,) = _group_wraps(scene, after)
    assert (new_wrap.recipient_id, new_wrap.epoch) == (clinical_group_id(practice), 2)
    assert _clinical_key(scene, doctor).epoch == 2
    with pytest.raises(CryptoError):
        unwrap_item_key(new_wrap.wrap, item_id=after, holder=old_key)

    # The removed practitioner's browser: their page is gone, and their worker, with the key it
    # held, opens nothing written after.
    context = leaver.sign_in(scene, browser)
    contexts.append(context)
    answer = context.new_page().goto(f"{scene.url}/practice/{practice}/patients/{scene.patient_id}")
    assert answer is not None
    assert answer.status == 404
    derived = call(worker, "deriveLoginKeys", {"password": PASSWORD, "kdfParams": hexed(params)})
    keys = call(
        worker,
        "unlockWithKek",
        {
            "kek": derived["kek"],
            "userId": str(leaver.person.account_id),
            "sealedByPassword": hexed(sealed),
        },
    )
    held = call(
        worker,
        "openGroupKey",
        {
            "keys": keys["keys"],
            "wrap": hexed(unb64(leavers["wraps"][0]["wrap"])),
            "expected": {
                "subjectKind": 2,
                "subjectId": str(clinical_group_id(practice)),
                "purpose": 1,
                "epoch": 1,
                "publicKey": hexed(unb64(leavers["binding"]["public_key"])),
            },
            "lastSeenEpoch": 0,
        },
    )
    with scene.db.read() as session:
        envelope = session.get_one(SealedItemRow, (practice, after)).envelope
    refused = failure(
        worker,
        "openNote",
        {
            "holder": held["group"],
            "wrap": hexed(new_wrap.wrap),
            "envelope": hexed(envelope),
            "itemId": str(after),
            "patientId": str(scene.patient_id),
            "author": binding_json(_signing_key(scene, doctor)),
        },
    )
    assert refused in {"WrongContext", "DecryptionFailed"}

    # The epoch-not-lower rule, per group id: once this browser verified epoch 2, the server
    # serving epoch 1 as current (a valid proof against today's log) is refused; a browser that
    # never saw epoch 2 would take it, which is why the epoch seen is remembered.
    proven = _prove_clinical(worker, scene)
    assert proven["ok"], proven
    assert proven["result"]["proven"]["binding"]["epoch"] == 2
    replayed = _prove_clinical(worker, scene, replay_epoch=1)
    assert (replayed["ok"], replayed.get("kind")) == (False, "StaleEpoch")
    fresh = open_harness(browser, harness)
    fresh.wait_for_selector("body[data-ready=true]", state="attached")
    taken = _prove_clinical(fresh, scene, replay_epoch=1)
    fresh.context.close()
    assert taken["ok"], taken
    assert taken["result"]["proven"]["binding"]["epoch"] == 1


PIN = {"origin": LOG.origin, "logPublicKey": hexed(LOG.public_key), "witnesses": {}, "threshold": 0}


def _prove_clinical(page: Page, scene: Scene, *, replay_epoch: int | None = None) -> dict[str, Any]:
    """proveClinicalKey as the record page runs it: the worker names the paths, the page fetches
    them. ``replay_epoch``: the server serves that older epoch's binding as current instead, with
    a valid proof against today's log (its leaf, proven in the answer's own chain)."""
    practice = scene.world.practice_id
    clinical_path = f"/api/v1/key-directory/practices/{practice}/clinical"
    answers: dict[str, Any] = {}
    with scene.staff() as staff:
        while True:
            params = {"pin": PIN, "practiceId": str(practice), "answers": answers}
            outcome: dict[str, Any] = page.evaluate(
                "(params) => window.colloqueCrypto.callJson('proveClinicalKey', params)", params
            )
            if not outcome["ok"] or "proven" in outcome["result"]:
                return outcome
            for path in outcome["result"]["need"]:
                answer = staff._get(path)
                if path == clinical_path and replay_epoch is not None:
                    answer = _replayed(answer, replay_epoch)
                answers[path] = answer


def _replayed(answer: dict[str, Any], epoch: int) -> dict[str, Any]:
    size = answer["bindings"][0]["tree_size"]
    for out in answer["chain"]:
        leaf = unb64(out["leaf"])
        if len(leaf) != LEAF_BYTES:
            continue
        binding = KeyBinding.from_leaf(leaf)
        if binding.purpose is KeyPurpose.ENCRYPTION and binding.epoch == epoch:
            old = {**out, "tree_size": size}
            return {**answer, "bindings": [old]}
    raise AssertionError(f"no epoch {epoch} binding in the chain")


def _signing_key(scene: Scene, member: Member) -> KeyBinding:
    with scene.staff() as admin:
        key: KeyBinding = admin.key_directory.user_keys(member.person.account_id).bindings[
            KeyPurpose.SIGNING
        ]
    return key
