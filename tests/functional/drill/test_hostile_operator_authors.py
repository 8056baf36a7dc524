"""The hostile operator drill, attack 7 in full (issue 10): an account of the operator's, with
properly published keys, authors a reason, a note and a message, each signed by it and wrapped
for the patient's holder and the practice group. The patient's and the secretary's clients refuse
them (``AuthorNotAllowed``) before decrypting anything, on both databases; the genuine authors
open with their standing ("holder", "member", "former member").
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from colloque.accounts.services import do_add_member
from colloque.api.app import create_app
from colloque.client import ApiError, ColloqueClient
from colloque.client.appointments import sealed_booking_fields
from colloque.clock import SettableClock
from colloque.crypto.authorship import Standing
from colloque.crypto.errors import AuthorNotAllowed
from colloque.crypto.items import conversation_id, seal_message, seal_note, seal_visit_reason
from colloque.crypto.keys import UserKeys
from colloque.crypto.statements import Role as GroupRole
from colloque.crypto.transparency import KeyPurpose
from colloque.patients.services import Relationship, do_add_patient
from colloque.principal import Role
from colloque.records.models import ItemKeyWrap, SealedItemRow
from colloque.storage.engine import Database
from tests.factories import World, build_world
from tests.functional.keys.conftest import SETTINGS, add, keyed

MON_0900 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
TUE_0900 = datetime(2026, 3, 3, 8, 0, tzinfo=UTC)
FORGED = "FORGED by the server"


@pytest.fixture
def http(db: Database, clock: SettableClock) -> Iterator[TestClient]:
    with TestClient(create_app(SETTINGS, database=db, clock=clock)) as client:
        yield client


@dataclass
class Scene:
    world: World
    head: ColloqueClient
    desk: ColloqueClient
    doctor: ColloqueClient
    patient: ColloqueClient
    patient_id: UUID
    booked: dict[str, Any]


@pytest.fixture
def scene(db: Database, clock: SettableClock, http: TestClient) -> Scene:
    """An attested admin, secretary and practitioner; a patient who booked online."""
    world = build_world(db, clock)
    practice = world.practice_id
    desk, head, doctor = keyed(db, clock, "desk"), keyed(db, clock, "head"), keyed(db, clock, "doc")
    add(db, practice, desk, Role.SECRETARY)
    add(db, practice, head, Role.ADMIN)
    with db.write() as session:
        do_add_member(
            session,
            practice_id=practice,
            account_id=doctor.account_id,
            role=Role.PRACTITIONER,
            practitioner_id=world.practitioner_id,
        )
    head_client = head.client(http)
    head_client.practice_keys.create_group(practice)
    patient = keyed(db, clock, "patient")
    with db.write() as session:
        patient_id = do_add_patient(
            session,
            now=clock.now(),
            principal=patient.principal(db),
            first_name="Paul",
            last_name="Genou",
            birth_date=date(1980, 5, 6),
            relationship=Relationship.SELF,
        ).patient_id
    patient_client = patient.client(http)
    booked = patient_client.book(
        practice_id=practice,
        practitioner_id=world.practitioner_id,
        patient_id=patient_id,
        starts_at=MON_0900,
        visit_type_id=world.consultation_id,
        duration_minutes=20,
        reason="Genou",
    )
    return Scene(
        world,
        head_client,
        desk.client(http),
        doctor.client(http),
        patient_client,
        patient_id,
        booked,
    )


def _staff_view(http: TestClient, client: ColloqueClient, practice: UUID, appointment: str) -> Any:
    return http.get(
        f"/api/v1/practices/{practice}/appointments/{appointment}",
        headers={"Authorization": f"Bearer {client.token}"},
    ).json()


def _mine(client: ColloqueClient, appointment: str) -> dict[str, Any]:
    return {a["appointment_id"]: a for a in client.my_appointments()}[appointment]


def _store(
    db: Database, item_id: UUID, author: UUID, envelope: bytes, wraps: tuple[bytes, ...]
) -> None:
    """The operator swaps an item's envelope and its wraps (holder first, then the group)."""
    with db.write() as session:
        row = session.scalars(select(SealedItemRow).where(SealedItemRow.item_id == item_id)).one()
        row.envelope, row.author_account_id = envelope, author
        stored = sorted(
            session.scalars(select(ItemKeyWrap).where(ItemKeyWrap.item_id == item_id)).all(),
            key=lambda wrap: wrap.recipient_kind != "user",
        )
        for wrap, replacement in zip(stored, wraps, strict=True):
            wrap.wrap = replacement


def test_a_patients_own_booking_opens_as_holder_for_both_sides(
    scene: Scene, http: TestClient
) -> None:
    appointment = scene.booked["appointment_id"]
    mine = scene.patient.read_reason(_mine(scene.patient, appointment))
    theirs = scene.desk.read_reason(
        _staff_view(http, scene.desk, scene.world.practice_id, appointment)
    )
    for opened in (mine, theirs):
        assert (opened.reason, opened.author_id) == ("Genou", scene.patient.account_id)
        assert opened.author_standing is Standing.HOLDER
        assert opened.visit_type_id == scene.world.consultation_id


def test_a_phone_booking_by_the_desk_opens_as_member(scene: Scene, http: TestClient) -> None:
    practice = scene.world.practice_id
    fields = sealed_booking_fields(
        author=scene.desk.unlocked_keys,
        visit_type_id=scene.world.consultation_id,
        reason="Au téléphone",
        patient_key=scene.desk.key_directory.user_keys(scene.patient.account_id).bindings[
            KeyPurpose.ENCRYPTION
        ],
        practice_key=scene.desk.key_directory.practice_key(practice),
    )
    answer = http.post(
        f"/api/v1/practices/{practice}/appointments",
        json={
            "practitioner_id": str(scene.world.practitioner_id),
            "patient_id": str(scene.patient_id),
            "starts_at": TUE_0900.isoformat(),
            "duration_minutes": 20,
            **fields,
        },
        headers={"Authorization": f"Bearer {scene.desk.token}"},
    )
    assert answer.status_code == 201, answer.text
    appointment = answer.json()["appointment_id"]
    for opened in (
        scene.patient.read_reason(_mine(scene.patient, appointment)),
        scene.desk.read_reason(_staff_view(http, scene.desk, practice, appointment)),
    ):
        assert (opened.reason, opened.author_id) == ("Au téléphone", scene.desk.account_id)
        assert opened.author_standing is Standing.MEMBER


def test_a_removed_members_earlier_message_opens_as_former_member(
    db: Database, clock: SettableClock, scene: Scene, http: TestClient
) -> None:
    """A deputy admin writes, then is removed: what they wrote stays readable, marked.

    The deputy signed a statement, so their keys stay readable to the patient (docs/crypto.md
    5.12); a removed member who never signed one is not readable to the holder yet (5.2).
    """
    practice, me = scene.world.practice_id, scene.patient_id
    deputy, newcomer = keyed(db, clock, "deputy"), keyed(db, clock, "newcomer")
    add(db, practice, deputy, Role.ADMIN)
    add(db, practice, newcomer, Role.SECRETARY)
    scene.head.practice_keys.attest_member(practice, deputy.account_id, GroupRole.ADMIN)
    deputy_client = deputy.client(http)
    deputy_client.practice_keys.attest_member(practice, newcomer.account_id, GroupRole.SECRETARY)
    deputy_client.send_message(practice_id=practice, patient_id=me, text="Bonjour", as_holder=False)
    scene.head.practice_keys.remove_member(practice, deputy.account_id)
    [message] = scene.patient.read_messages(practice_id=practice, patient_id=me, as_holder=True)
    assert (message.text, message.author_account_id) == ("Bonjour", deputy.account_id)
    assert message.author_standing is Standing.FORMER_MEMBER


def test_messages_carry_their_authors_standing(scene: Scene) -> None:
    practice, me = scene.world.practice_id, scene.patient_id
    scene.desk.send_message(practice_id=practice, patient_id=me, text="Venez", as_holder=False)
    scene.patient.send_message(practice_id=practice, patient_id=me, text="Oui", as_holder=True)
    for reader, as_holder in ((scene.desk, False), (scene.patient, True)):
        thread = reader.read_messages(practice_id=practice, patient_id=me, as_holder=as_holder)
        assert {(m.text, m.author_standing) for m in thread} == {
            ("Venez", Standing.MEMBER),
            ("Oui", Standing.HOLDER),
        }


def _operator_account(db: Database, clock: SettableClock, http: TestClient) -> UserKeys:
    """An account of the operator's with properly published keys (the harness's ``keyed``)."""
    return keyed(db, clock, "mallory").client(http).unlocked_keys


def test_attack_7_a_reason_by_an_operators_account_is_refused(
    db: Database, clock: SettableClock, scene: Scene, http: TestClient
) -> None:
    mallory = _operator_account(db, clock, http)
    practice, appointment = scene.world.practice_id, scene.booked["appointment_id"]
    item_id = UUID(scene.booked["sealed_reason"]["item_id"])
    forged = seal_visit_reason(
        item_id=item_id,
        appointment_id=UUID(appointment),
        visit_type_id=scene.world.consultation_id,
        reason=FORGED,
        author=mallory,
        recipients=[
            scene.patient.unlocked_keys.encryption_binding(),
            scene.desk.key_directory.practice_key(practice),
        ],
    )
    _store(db, item_id, mallory.user_id, forged.envelope, forged.wraps)
    with pytest.raises(AuthorNotAllowed):
        scene.patient.read_reason(_mine(scene.patient, appointment))
    with pytest.raises(AuthorNotAllowed):
        scene.desk.read_reason(_staff_view(http, scene.desk, practice, appointment))


def _posted(db: Database, scene: Scene, kind: str) -> UUID:
    """A genuine item of ``kind`` to overwrite: the operator keeps its row, swaps the bytes."""
    practice, me = scene.world.practice_id, scene.patient_id
    if kind == "note":
        return scene.doctor.write_note(practice_id=practice, patient_id=me, text="vrai")
    return scene.desk.send_message(
        practice_id=practice, patient_id=me, text="vrai", as_holder=False
    )


@pytest.mark.parametrize("kind", ["note", "message"])
def test_attack_7_a_note_or_message_by_an_operators_account_is_refused(
    db: Database, clock: SettableClock, scene: Scene, http: TestClient, kind: str
) -> None:
    mallory = _operator_account(db, clock, http)
    practice, me = scene.world.practice_id, scene.patient_id
    item_id = _posted(db, scene, kind)
    recipients = [
        scene.patient.unlocked_keys.encryption_binding(),
        scene.doctor.key_directory.clinical_key(practice)
        if kind == "note"
        else scene.desk.key_directory.practice_key(practice),
    ]
    if kind == "note":
        forged = seal_note(
            item_id=item_id, patient_id=me, text=FORGED, author=mallory, recipients=recipients
        )
        readers = [(scene.patient, True), (scene.doctor, False)]
    else:
        forged = seal_message(
            item_id=item_id,
            conversation_id=conversation_id(practice_id=practice, patient_id=me),
            text=FORGED,
            author=mallory,
            recipients=recipients,
        )
        readers = [(scene.patient, True), (scene.desk, False)]
    _store(db, item_id, mallory.user_id, forged.envelope, forged.wraps)
    read = "read_notes" if kind == "note" else "read_messages"
    for reader, as_holder in readers:
        with pytest.raises(AuthorNotAllowed):
            getattr(reader, read)(practice_id=practice, patient_id=me, as_holder=as_holder)
    # The operator also makes its account a member (a row, no signed statement): still refused.
    with db.write() as session:
        do_add_member(
            session,
            practice_id=practice,
            account_id=mallory.user_id,
            role=Role.PRACTITIONER,
            practitioner_id=scene.world.practitioner_id,
        )
    staff = readers[1][0]
    with pytest.raises(AuthorNotAllowed):
        getattr(staff, read)(practice_id=practice, patient_id=me, as_holder=False)


def test_a_desk_member_cannot_author_a_note(db: Database, scene: Scene, http: TestClient) -> None:
    """A note signed by an attested secretary (notes are practitioners' only) is refused too."""
    practice, me = scene.world.practice_id, scene.patient_id
    item_id = _posted(db, scene, "note")
    forged = seal_note(
        item_id=item_id,
        patient_id=me,
        text=FORGED,
        author=scene.desk.unlocked_keys,
        recipients=[
            scene.patient.unlocked_keys.encryption_binding(),
            scene.desk.key_directory.practice_key(practice),
        ],
    )
    _store(db, item_id, scene.desk.account_id, forged.envelope, forged.wraps)
    with pytest.raises(AuthorNotAllowed):
        scene.patient.read_notes(practice_id=practice, patient_id=me, as_holder=True)


def test_a_directory_that_cannot_answer_stops_the_read(
    scene: Scene, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only "no key group" (404) means "no members"; any other failure is not a pass."""

    def failing(practice_id: UUID) -> None:
        raise ApiError(500, {"title": "down"})

    monkeypatch.setattr(scene.patient.key_directory, "practice_members", failing)
    with pytest.raises(ApiError):
        scene.patient.standing_check(scene.world.practice_id, scene.patient_id, as_holder=True)
