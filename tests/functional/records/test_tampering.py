"""A malicious server moves or alters ciphertext: the client's open catches it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select, update

from colloque.client import ApiError
from colloque.client.encoding import b64
from colloque.clock import SettableClock
from colloque.crypto.errors import CryptoError, SignatureInvalid, WrongContext
from colloque.crypto.items import seal_note
from colloque.patients.services import Relationship
from colloque.records.models import ItemKeyWrap, SealedItemRow
from colloque.storage.engine import Database
from tests.factories import Person, make_patient, register_at_practice
from tests.functional.records.clients import Scene, scene


@pytest.fixture
def s(db: Database, clock: SettableClock, tmp_path: Path) -> Iterator[Scene]:
    yield from scene(db, clock, tmp_path)


def test_a_note_moved_to_another_patient_is_caught_by_the_client(
    s: Scene, db: Database, clock: SettableClock
) -> None:
    child = make_patient(
        db, clock, Person(s.holder.account_id, ""), "Tim", "Record", Relationship.CHILD
    )
    register_at_practice(db, clock, s.world, child)
    s.doctor.records.write_note(
        practice_id=s.world.practice_id,
        patient_id=s.patient_id,
        text="Diabète de type 1",
        recipients=s.note_recipients(),
    )
    with db.write() as session:  # the server moves the note onto the child's record
        session.execute(update(SealedItemRow).values(patient_id=child, context_id=child))
    for reader, keys in ((s.holder, None), (s.doctor, {1: s.clinical})):
        with pytest.raises(WrongContext):
            reader.records.read_notes(
                practice_id=s.world.practice_id,
                patient_id=child,
                authors=s.authors,
                standing=s.standing,
                clinical_keys=keys,
            )


def test_an_altered_envelope_or_a_forged_author_is_caught_by_the_client(
    s: Scene, db: Database
) -> None:
    s.holder.records.send_message(
        practice_id=s.world.practice_id,
        patient_id=s.patient_id,
        text="Rendez-vous annulé ?",
        recipients=s.recipients(),
        as_holder=True,
    )
    with db.read() as session:
        envelope = session.scalars(select(SealedItemRow.envelope)).one()

    def read() -> None:
        s.doctor.records.read_messages(
            practice_id=s.world.practice_id,
            patient_id=s.patient_id,
            authors=s.authors,
            standing=s.standing,
            group_keys={1: s.group},
        )

    forged = envelope[:-1] + bytes([envelope[-1] ^ 1])
    with db.write() as session:
        session.execute(update(SealedItemRow).values(envelope=forged))
    with pytest.raises(SignatureInvalid):
        read()
    # The server claims the doctor wrote it: the holder's signature does not verify as the doctor's.
    with db.write() as session:
        session.execute(
            update(SealedItemRow).values(envelope=envelope, author_account_id=s.doctor.account_id)
        )
    with pytest.raises(CryptoError):
        read()


def test_a_wrap_swapped_between_items_does_not_open(s: Scene, db: Database) -> None:
    ids = [
        s.doctor.records.write_note(
            practice_id=s.world.practice_id,
            patient_id=s.patient_id,
            text=text,
            recipients=s.note_recipients(),
        )
        for text in ("un", "deux")
    ]
    with db.write() as session:  # the second item's practice wrap handed out for the first
        second = session.scalars(
            select(ItemKeyWrap).where(
                ItemKeyWrap.item_id == ids[1], ItemKeyWrap.recipient_kind == "practice"
            )
        ).one()
        session.execute(
            update(ItemKeyWrap)
            .where(ItemKeyWrap.item_id == ids[0], ItemKeyWrap.recipient_kind == "practice")
            .values(wrap=second.wrap)
        )
    with pytest.raises(WrongContext):
        s.doctor.records.read_notes(
            practice_id=s.world.practice_id,
            patient_id=s.patient_id,
            authors=s.authors,
            standing=s.standing,
            clinical_keys={1: s.clinical},
        )


def test_a_note_posted_under_another_patient_is_refused_by_the_server(
    s: Scene, db: Database, clock: SettableClock
) -> None:
    """A client (or a proxy) that files a ciphertext under another patient: the header check."""
    child = make_patient(
        db, clock, Person(s.holder.account_id, ""), "Léa", "Record", Relationship.CHILD
    )
    register_at_practice(db, clock, s.world, child)
    sealed = seal_note(
        item_id=uuid.uuid4(),
        patient_id=s.patient_id,
        text="pour le parent",
        author=s.doctor.unlocked_keys,
        recipients=s.note_recipients(),
    )
    body = {"envelope": b64(sealed.envelope), "wraps": [b64(w) for w in sealed.wraps]}
    path = f"/api/v1/practices/{s.world.practice_id}/patients/{child}/notes"
    with pytest.raises(ApiError) as refused:
        s.doctor._request("POST", path, json=body)
    assert (refused.value.status, refused.value.field) == (422, "envelope")
