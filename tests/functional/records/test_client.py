"""The client side through the real API: seal, post, fetch, verify, open; tampering is caught."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from pathlib import Path

import pytest
from sqlalchemy import select

from colloque.client import ApiError
from colloque.client.records import AwaitingPractitionersKey
from colloque.clock import SettableClock
from colloque.crypto.items import seal_note
from colloque.delivery.channels import Channels
from colloque.notifications.models import OutboxMessage
from colloque.patients.services import Relationship
from colloque.records.models import ItemKeyWrap, SealedItemRow
from colloque.storage.engine import Database
from tests.factories import Person, make_patient
from tests.functional.notifications.conftest import delivery_for, smtp_to
from tests.functional.records.clients import Scene, scene
from tests.smtp import running_inbox


@pytest.fixture
def s(db: Database, clock: SettableClock, tmp_path: Path) -> Iterator[Scene]:
    yield from scene(db, clock, tmp_path)


def test_a_note_is_read_by_practitioner_and_holder_not_by_the_desk(s: Scene) -> None:
    practice, patient = s.world.practice_id, s.patient_id
    note_id = s.doctor.records.write_note(
        practice_id=practice,
        patient_id=patient,
        text="Allergie: pénicilline",
        recipients=s.note_recipients(),
    )
    by_doctor = s.doctor.records.read_notes(
        practice_id=practice,
        patient_id=patient,
        authors=s.authors,
        standing=s.standing,
        clinical_keys={1: s.clinical},
    )
    by_holder = s.holder.records.read_notes(
        practice_id=practice, patient_id=patient, authors=s.authors, standing=s.standing
    )
    for notes in (by_doctor, by_holder):
        assert [(n.item_id, n.text, n.author_account_id) for n in notes] == [
            (note_id, "Allergie: pénicilline", s.doctor.account_id)
        ]
    with pytest.raises(ApiError) as refused:
        s.secretary.records.read_notes(
            practice_id=practice,
            patient_id=patient,
            authors=s.authors,
            standing=s.standing,
            group_keys={1: s.group},
        )
    assert refused.value.status == 403
    # A practitioner whose device holds no key of the practitioners' group yet is told so.
    with pytest.raises(AwaitingPractitionersKey, match="colleague's device"):
        s.doctor.records.read_notes(
            practice_id=practice,
            patient_id=patient,
            authors=s.authors,
            standing=s.standing,
            group_keys={1: s.group},
            clinical_keys={},
        )


def test_a_note_sealed_to_the_practice_group_before_stays_readable(
    s: Scene, db: Database, clock: SettableClock
) -> None:
    """Notes written before the practitioners' group existed were sealed to the practice group:
    the listing hands a practitioner those wraps too, and the client opens them with the
    practice group's key, telling the groups apart by the wrap's recipient id."""
    practice, patient = s.world.practice_id, s.patient_id
    sealed = seal_note(
        item_id=uuid.uuid4(),
        patient_id=patient,
        text="Ancienne note",
        author=s.doctor.unlocked_keys,
        recipients=[s.group.encryption_binding()],
    )
    with db.write() as session:
        session.add(
            SealedItemRow(
                practice_id=practice,
                item_id=sealed.item_id,
                kind="note",
                patient_id=patient,
                context_id=patient,
                author_account_id=s.doctor.account_id,
                envelope=sealed.envelope,
                size_bytes=len(sealed.envelope),
                created_at=clock.now() - timedelta(days=1),
            )
        )
        session.flush()
        session.add(
            ItemKeyWrap(
                practice_id=practice,
                item_id=sealed.item_id,
                recipient_kind="practice",
                recipient_id=practice,
                epoch=1,
                wrap=sealed.wraps[0],
            )
        )
    s.doctor.records.write_note(
        practice_id=practice, patient_id=patient, text="Nouvelle", recipients=s.note_recipients()
    )
    read = s.doctor.records.read_notes(
        practice_id=practice,
        patient_id=patient,
        authors=s.authors,
        standing=s.standing,
        group_keys={1: s.group},
        clinical_keys={1: s.clinical},
    )
    assert [n.text for n in read] == ["Nouvelle", "Ancienne note"]


def test_messages_go_both_ways_and_page(s: Scene, clock: SettableClock) -> None:
    practice, patient = s.world.practice_id, s.patient_id
    sent = []
    for index in range(5):
        sender, as_holder = (s.holder, True) if index % 2 == 0 else (s.secretary, False)
        sent.append(
            sender.records.send_message(
                practice_id=practice,
                patient_id=patient,
                text=f"message {index}",
                recipients=s.recipients(),
                as_holder=as_holder,
            )
        )
        clock.advance(timedelta(minutes=1))
    first = s.holder.records.read_messages(
        practice_id=practice, patient_id=patient, authors=s.authors, standing=s.standing, limit=3
    )
    rest = s.doctor.records.read_messages(
        practice_id=practice,
        patient_id=patient,
        authors=s.authors,
        standing=s.standing,
        group_keys={1: s.group},
        before=first[-1].item_id,
    )
    assert [m.text for m in first + rest] == [f"message {i}" for i in reversed(range(5))]
    assert [m.item_id for m in first + rest] == list(reversed(sent))


def test_an_unknown_paging_cursor_is_refused(s: Scene) -> None:
    with pytest.raises(ApiError) as refused:
        s.holder.records.read_messages(
            practice_id=s.world.practice_id,
            patient_id=s.patient_id,
            authors=s.authors,
            standing=s.standing,
            before=s.patient_id,
        )
    assert (refused.value.status, refused.value.field) == (422, "before")


def test_a_holder_writes_only_to_a_practice_that_knows_the_patient(
    s: Scene, db: Database, clock: SettableClock
) -> None:
    relative = make_patient(
        db, clock, Person(s.holder.account_id, ""), "Noé", "Record", Relationship.CHILD
    )
    with pytest.raises(ApiError) as unknown:
        s.holder.records.send_message(
            practice_id=s.world.practice_id,
            patient_id=relative,
            text="Bonjour",
            recipients=s.recipients(),
            as_holder=True,
        )
    assert (unknown.value.status, unknown.value.field) == (404, "practice_id")
    read = s.holder.records.read_messages(
        practice_id=s.world.practice_id, patient_id=relative, authors=s.authors, standing=s.standing
    )
    assert read == []


def test_a_message_from_the_practice_queues_a_mail_without_content(
    s: Scene, db: Database, clock: SettableClock
) -> None:
    for sender, as_holder in ((s.secretary, False), (s.holder, True)):
        sender.records.send_message(
            practice_id=s.world.practice_id,
            patient_id=s.patient_id,
            text="Vos résultats sont arrivés",
            recipients=s.recipients(),
            as_holder=as_holder,
        )
    with db.read() as session:
        queued = session.scalars(
            select(OutboxMessage).where(OutboxMessage.template == "message_received")
        ).all()
    assert [(m.patient_id, m.appointment_id) for m in queued] == [(s.patient_id, None)]
    # Delivered to the holder: the practice's name and a link, never the message.
    with running_inbox() as inbox:
        smtp = smtp_to(inbox)
        assert delivery_for(db, clock, Channels(email=smtp)).run_until_idle().sent == 1
        [mail] = inbox.to("holder.records@example.test")
    reparsed = message_from_bytes(mail.as_bytes(), policy=default)
    assert isinstance(reparsed, EmailMessage)
    assert reparsed["Subject"] == "Nouveau message de Cabinet du Test"
    everything = reparsed.as_string()
    plain = reparsed.get_body(preferencelist=("plain",))
    assert plain is not None
    assert "https://colloque.test/me/records" in plain.get_content()
    assert "résultats" not in everything
    assert "sultats" not in everything
