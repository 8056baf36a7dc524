"""store_sealed_item: what the server checks in an envelope's and its wraps' clear headers."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import pytest
from sqlalchemy import delete, func, select, update

from colloque.audit.models import AuditEvent
from colloque.clock import SettableClock
from colloque.crypto.groups import clinical_group_id
from colloque.crypto.items import (
    SealedItem,
    conversation_id,
    seal_message,
    seal_note,
    seal_visit_reason,
)
from colloque.crypto.keys import UserKeys
from colloque.crypto.transparency import KeyBinding
from colloque.errors import Conflict, InvalidInput, Unauthenticated, UnusableId
from colloque.practicekeys.models import PracticeKeyEpoch
from colloque.principal import ANONYMOUS
from colloque.records.models import ItemKeyWrap, SealedItemRow
from colloque.records.services import store_sealed_item
from colloque.storage.engine import Database
from tests.factories import make_patient, make_person
from tests.functional.records.conftest import Keyed
from tests.functional.records.helpers import give_keys


def note(
    keyed: Keyed,
    *,
    author: UserKeys | None = None,
    patient_id: uuid.UUID | None = None,
    recipients: Sequence[KeyBinding] | None = None,
    item_id: uuid.UUID | None = None,
) -> SealedItem:
    return seal_note(
        item_id=item_id or uuid.uuid4(),
        patient_id=patient_id or keyed.world.holder_patient_id,
        text="Tension 12/8",
        author=author or keyed.doctor,
        recipients=recipients
        if recipients is not None
        else [keyed.holder.encryption_binding(), keyed.clinical.encryption_binding()],
    )


def store(
    db: Database,
    clock: SettableClock,
    keyed: Keyed,
    sealed: SealedItem,
    *,
    kind: str = "note",
    context_id: uuid.UUID | None = None,
    patient_id: uuid.UUID | None = None,
    wraps: Sequence[bytes] | None = None,
    author: uuid.UUID | None = None,
    envelope: bytes | None = None,
) -> SealedItemRow:
    person = keyed.world.doctor
    with db.write() as session:
        principal = person.principal(db)
        if author is not None:
            principal = type(principal)(account_id=author, memberships=principal.memberships)
        return store_sealed_item(
            session,
            principal=principal,
            practice_id=keyed.world.practice_id,
            patient_id=patient_id or keyed.world.holder_patient_id,
            kind=kind,
            context_id=context_id or keyed.world.holder_patient_id,
            envelope=sealed.envelope if envelope is None else envelope,
            wraps=sealed.wraps if wraps is None else wraps,
            now=clock.now(),
        )


def posing_as(keys: UserKeys, user_id: uuid.UUID) -> UserKeys:
    """``keys`` under another user id: what an impostor signs with."""
    return UserKeys(
        user_id=user_id,
        epoch=keys.epoch,
        encryption_public=keys.encryption_public,
        encryption_secret=keys.encryption_secret,
        signing_public=keys.signing_public,
        signing_seed=keys.signing_seed,
        signing_secret=keys.signing_secret,
    )


def test_a_good_note_is_stored_with_one_wrap_per_recipient(
    db: Database, clock: SettableClock, keyed: Keyed
) -> None:
    sealed = note(keyed)
    row = store(db, clock, keyed, sealed)
    assert row.item_id == sealed.item_id
    assert row.size_bytes == len(sealed.envelope)
    with db.read() as session:
        wraps = session.execute(
            select(ItemKeyWrap.recipient_kind, ItemKeyWrap.recipient_id, ItemKeyWrap.epoch)
        ).all()
        audited = session.scalar(select(func.count()).where(AuditEvent.object_id == sealed.item_id))
    assert sorted(wraps) == sorted(
        [
            ("user", keyed.world.holder.account_id, 1),
            ("practice", clinical_group_id(keyed.world.practice_id), 1),
        ]
    )
    assert audited == 1


def _field(excinfo: pytest.ExceptionInfo[InvalidInput]) -> str | None:
    return excinfo.value.field


def test_headers_that_do_not_match_the_request_are_refused(
    db: Database, clock: SettableClock, keyed: Keyed
) -> None:
    sealed = note(keyed)
    other_patient = keyed.world.child_patient_id
    cases: list[tuple[dict[str, object], str]] = [
        ({"kind": "message"}, "envelope"),  # kind
        ({"context_id": other_patient, "patient_id": other_patient}, "envelope"),  # swapped
        ({"author": keyed.world.secretary.account_id}, "envelope"),  # another author
        ({"envelope": b"\x01\x03garbage"}, "envelope"),
        ({"envelope": bytes(70_000)}, "envelope"),
        ({"wraps": sealed.wraps[:1]}, "wraps"),  # the group has none
        ({"wraps": [sealed.wraps[0], sealed.wraps[0]]}, "wraps[1]"),
        ({"wraps": [*sealed.wraps, note(keyed).wraps[0]]}, "wraps[2]"),  # another item's
        ({"wraps": [sealed.wraps[0], b"\x01\x04short"]}, "wraps[1]"),
        ({"wraps": [sealed.wraps[0], bytes(600)]}, "wraps[1]"),
        ({"wraps": [sealed.wraps[0]] * 5}, "wraps"),
    ]
    for overrides, field in cases:
        with pytest.raises(InvalidInput) as excinfo:
            store(db, clock, keyed, sealed, **overrides)  # type: ignore[arg-type]
        assert _field(excinfo) == field, overrides
    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(SealedItemRow)) == 0


def test_a_wrap_for_an_outsider_or_an_old_epoch_is_refused(
    db: Database, clock: SettableClock, keyed: Keyed
) -> None:
    outsider = note(
        keyed,
        recipients=[keyed.stranger.encryption_binding(), keyed.clinical.encryption_binding()],
    )
    with pytest.raises(InvalidInput, match="not expected") as excinfo:
        store(db, clock, keyed, outsider)
    assert _field(excinfo) == "wraps[0]"
    give_keys(db, clock, keyed.world.holder.account_id, epoch=2)  # the holder's key reset
    with pytest.raises(InvalidInput, match="not expected"):
        store(db, clock, keyed, note(keyed))


def test_a_forged_author_signature_is_refused(
    db: Database, clock: SettableClock, keyed: Keyed
) -> None:
    sealed = note(keyed)
    forged = sealed.envelope[:-1] + bytes([sealed.envelope[-1] ^ 1])
    with pytest.raises(InvalidInput, match="signature") as excinfo:
        store(db, clock, keyed, sealed, envelope=forged)
    assert _field(excinfo) == "envelope"
    # Signed by someone else's key while naming the doctor as author.
    impostor = posing_as(keyed.stranger, keyed.doctor.user_id)
    with pytest.raises(InvalidInput, match="signature"):
        store(db, clock, keyed, note(keyed, author=impostor))


def test_an_item_id_is_used_once(db: Database, clock: SettableClock, keyed: Keyed) -> None:
    sealed = note(keyed)
    store(db, clock, keyed, sealed)
    with pytest.raises(UnusableId) as used:
        store(db, clock, keyed, sealed)
    # Used or not random: one answer (test_id_oracles.py compares them over HTTP).
    with pytest.raises(UnusableId) as malformed:
        store(db, clock, keyed, note(keyed, item_id=uuid.uuid1()))
    assert (used.value.detail, used.value.field) == (malformed.value.detail, "envelope")


def test_an_author_without_keys_or_a_session_is_refused(
    db: Database, clock: SettableClock, keyed: Keyed
) -> None:
    keyless = make_person(db, clock, "Keyless Kim")
    sealed = note(keyed, author=posing_as(keyed.stranger, keyless.account_id))
    with pytest.raises(InvalidInput, match="no signing key"):
        store(db, clock, keyed, sealed, author=keyless.account_id)
    with db.write() as session, pytest.raises(Unauthenticated):
        store_sealed_item(
            session,
            principal=ANONYMOUS,
            practice_id=keyed.world.practice_id,
            patient_id=keyed.world.holder_patient_id,
            kind="note",
            context_id=keyed.world.holder_patient_id,
            envelope=b"",
            wraps=[],
            now=clock.now(),
        )


def test_recipients_follow_the_patient_and_the_practice(
    db: Database, clock: SettableClock, keyed: Keyed
) -> None:
    """No holder with keys: the group only. No group either: nobody could read a message."""
    lone = make_person(db, clock, "Lone Lou")  # an account without keys
    patient_id = make_patient(db, clock, lone, "Lou", "Seul")
    group_only = note(
        keyed, patient_id=patient_id, recipients=[keyed.clinical.encryption_binding()]
    )
    store(db, clock, keyed, group_only, patient_id=patient_id, context_id=patient_id)
    with db.write() as session:
        session.execute(delete(SealedItemRow))
        session.execute(delete(PracticeKeyEpoch))
    conversation = conversation_id(practice_id=keyed.world.practice_id, patient_id=patient_id)
    sealed = seal_message(
        item_id=uuid.uuid4(),
        conversation_id=conversation,
        text="Bonjour",
        author=keyed.doctor,
        recipients=[keyed.group.encryption_binding()],
    )
    with pytest.raises(InvalidInput, match="nobody") as excinfo:
        store(
            db,
            clock,
            keyed,
            sealed,
            kind="message",
            patient_id=patient_id,
            context_id=conversation,
        )
    assert _field(excinfo) == "wraps"


def test_a_visit_reason_is_stored_for_its_appointment(
    db: Database, clock: SettableClock, keyed: Keyed
) -> None:
    """How booking calls it: the patient's holder writes, the context is the appointment."""
    appointment_id = uuid.uuid4()
    sealed = seal_visit_reason(
        item_id=uuid.uuid4(),
        appointment_id=appointment_id,
        visit_type_id=keyed.world.consultation_id,
        reason="Toux",
        author=keyed.holder,
        recipients=[keyed.holder.encryption_binding(), keyed.group.encryption_binding()],
    )
    row = store(
        db,
        clock,
        keyed,
        sealed,
        kind="visit_reason",
        context_id=appointment_id,
        author=keyed.world.holder.account_id,
    )
    assert (row.kind, row.context_id) == ("visit_reason", appointment_id)
    # The same ciphertext presented for another appointment is refused.
    swapped = seal_message(
        item_id=uuid.uuid4(),
        conversation_id=appointment_id,
        text="x",
        author=keyed.holder,
        recipients=[keyed.holder.encryption_binding(), keyed.group.encryption_binding()],
    )
    with pytest.raises(InvalidInput):
        store(
            db,
            clock,
            keyed,
            sealed,
            kind="visit_reason",
            context_id=uuid.uuid4(),
            author=keyed.world.holder.account_id,
        )
    with pytest.raises(InvalidInput):
        store(
            db,
            clock,
            keyed,
            swapped,
            kind="visit_reason",
            context_id=appointment_id,
            author=keyed.world.holder.account_id,
        )


def _mark_due(db: Database, practice_id: uuid.UUID, *, clinical: bool) -> None:
    with db.write() as session:
        session.execute(
            update(PracticeKeyEpoch)
            .where(PracticeKeyEpoch.practice_id == practice_id)
            .where(PracticeKeyEpoch.clinical == clinical)
            .values(rotation_due=True)
        )


def test_a_note_is_sealed_to_the_practitioners_group_never_to_the_practice_group(
    db: Database, clock: SettableClock, keyed: Keyed
) -> None:
    """The practice group's key is every member's: a note wrapped for it is refused, so that
    no secretary's or admin's key ever opens a new note."""
    practice_wide = note(
        keyed, recipients=[keyed.holder.encryption_binding(), keyed.group.encryption_binding()]
    )
    with pytest.raises(InvalidInput, match="not expected") as excinfo:
        store(db, clock, keyed, practice_wide)
    assert _field(excinfo) == "wraps[1]"
    both = note(
        keyed,
        recipients=[
            keyed.holder.encryption_binding(),
            keyed.clinical.encryption_binding(),
            keyed.group.encryption_binding(),
        ],
    )
    with pytest.raises(InvalidInput, match="not expected") as excinfo:
        store(db, clock, keyed, both)
    assert _field(excinfo) == "wraps[2]"
    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(SealedItemRow)) == 0


def test_a_note_waits_for_the_practitioners_group_and_its_rotation(
    db: Database, clock: SettableClock, keyed: Keyed
) -> None:
    practice_id = keyed.world.practice_id
    _mark_due(db, practice_id, clinical=True)
    with pytest.raises(Conflict, match="practitioners' key must be rotated") as due:
        store(db, clock, keyed, note(keyed))
    assert due.value.field == "wraps"
    # Other kinds are sealed to the practice group, which is not rotation-due.
    conversation = conversation_id(
        practice_id=practice_id, patient_id=keyed.world.holder_patient_id
    )
    message = seal_message(
        item_id=uuid.uuid4(),
        conversation_id=conversation,
        text="Bonjour",
        author=keyed.doctor,
        recipients=[keyed.holder.encryption_binding(), keyed.group.encryption_binding()],
    )
    store(db, clock, keyed, message, kind="message", context_id=conversation)
    # A practice group that is rotation-due does not hold notes back.
    with db.write() as session:
        session.execute(
            update(PracticeKeyEpoch)
            .where(PracticeKeyEpoch.practice_id == practice_id)
            .values(rotation_due=~PracticeKeyEpoch.rotation_due)
        )
    store(db, clock, keyed, note(keyed))
    # No practitioners' group yet: 409 naming the wraps, saying who makes it.
    with db.write() as session:
        session.execute(delete(PracticeKeyEpoch).where(PracticeKeyEpoch.clinical.is_(True)))
    with pytest.raises(Conflict, match="does not exist yet") as missing:
        store(db, clock, keyed, note(keyed))
    assert missing.value.field == "wraps"
