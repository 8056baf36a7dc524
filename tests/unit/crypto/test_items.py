"""Items: visit reasons, notes, messages; item keys wrapped per recipient; tampering."""

from __future__ import annotations

import uuid

import pytest

from colloque.crypto import _sodium, groups, items
from colloque.crypto._encoding import EnvelopeType, prefix, u32
from colloque.crypto.errors import (
    DecryptionFailed,
    InvalidPublicKey,
    MalformedEnvelope,
    SignatureInvalid,
    WrongContext,
)
from colloque.crypto.items import ItemKind, VisitReason
from colloque.crypto.keys import UserKeys
from colloque.crypto.transparency import KeyBinding, KeyPurpose, SubjectKind
from tests.unit.crypto.helpers import flip, new_user

PATIENT = new_user()
DOCTOR = new_user()
GROUP = groups.create_group(uuid.uuid4(), members=[DOCTOR.encryption_binding()]).group_key
RECIPIENTS = [PATIENT.encryption_binding(), GROUP.encryption_binding()]
VISIT_TYPE = uuid.uuid4()


def seal_reason(
    appointment_id: uuid.UUID, reason: str = "Douleur lombaire", author: UserKeys = PATIENT
) -> items.SealedItem:
    return items.seal_visit_reason(
        item_id=uuid.uuid4(),
        appointment_id=appointment_id,
        visit_type_id=VISIT_TYPE,
        reason=reason,
        author=author,
        recipients=RECIPIENTS,
    )


def open_reason(
    sealed: items.SealedItem,
    appointment_id: uuid.UUID,
    *,
    envelope: bytes | None = None,
    item_id: uuid.UUID | None = None,
    author: KeyBinding | None = None,
) -> VisitReason:
    return items.open_visit_reason(
        sealed.envelope if envelope is None else envelope,
        item_key=sealed.item_key,
        item_id=item_id or sealed.item_id,
        appointment_id=appointment_id,
        author=author or PATIENT.signing_binding(),
    )


def test_visit_reason_round_trip_for_patient_and_practice() -> None:
    appointment = uuid.uuid4()
    sealed = seal_reason(appointment)
    assert len(sealed.wraps) == 2
    holders: tuple[items.KeyPairHolder, ...] = (PATIENT, GROUP)
    for wrap, holder in zip(sealed.wraps, holders, strict=True):
        assert len(wrap) == 158
        key = items.unwrap_item_key(wrap, item_id=sealed.item_id, holder=holder)
        assert key == sealed.item_key
        reason = items.open_visit_reason(
            sealed.envelope,
            item_key=key,
            item_id=sealed.item_id,
            appointment_id=appointment,
            author=PATIENT.signing_binding(),
        )
        assert reason == VisitReason(VISIT_TYPE, "Douleur lombaire")


def test_note_and_message_round_trip() -> None:
    patient_id, conversation = uuid.uuid4(), uuid.uuid4()
    note = items.seal_note(
        item_id=uuid.uuid4(),
        patient_id=patient_id,
        text="RAS",
        author=DOCTOR,
        recipients=RECIPIENTS,
    )
    message = items.seal_message(
        item_id=uuid.uuid4(),
        conversation_id=conversation,
        text="Bonjour \U0001f44b",
        author=DOCTOR,
        recipients=RECIPIENTS,
    )
    author = DOCTOR.signing_binding()
    assert (
        items.open_note(
            note.envelope,
            item_key=note.item_key,
            item_id=note.item_id,
            patient_id=patient_id,
            author=author,
        )
        == "RAS"
    )
    assert (
        items.open_message(
            message.envelope,
            item_key=message.item_key,
            item_id=message.item_id,
            conversation_id=conversation,
            author=author,
        )
        == "Bonjour \U0001f44b"
    )


@pytest.mark.parametrize(("length", "padded"), [(0, 256), (239, 256), (240, 512), (1000, 1024)])
def test_sizes_leak_only_in_256_byte_buckets(length: int, padded: int) -> None:
    sealed = seal_reason(uuid.uuid4(), "x" * length)  # body = 16-byte visit type + reason
    assert len(sealed.envelope) == 187 + padded


def test_ciphertext_moved_to_another_appointment_is_refused() -> None:
    first, second = uuid.uuid4(), uuid.uuid4()
    sealed = seal_reason(first)
    with pytest.raises(WrongContext):
        open_reason(sealed, second)
    # The server rewrites the clear header to point at the other appointment: the signature breaks.
    moved = sealed.envelope[:19] + second.bytes + sealed.envelope[35:]
    with pytest.raises(SignatureInvalid):
        open_reason(sealed, second, envelope=moved)


def test_an_author_splicing_ciphertext_onto_another_item_fails_the_ad() -> None:
    first, second = uuid.uuid4(), uuid.uuid4()
    sealed = seal_reason(first)
    # Someone holding the item key and a signing key builds a header for `second` around the same
    # ciphertext and signs it properly: the AEAD associated data no longer matches.
    header = sealed.envelope[:19] + second.bytes + sealed.envelope[35:107]
    ciphertext = sealed.envelope[107:-64]
    signed = header + ciphertext
    spliced = signed + _sodium.ed25519_sign(
        items.SIGNATURE_CONTEXT + signed, PATIENT.signing_secret
    )
    with pytest.raises(DecryptionFailed):
        open_reason(sealed, second, envelope=spliced)


def test_forged_author_signature_is_refused() -> None:
    appointment = uuid.uuid4()
    mallory = new_user(PATIENT.user_id)  # claims to be the patient, with other keys
    forged = seal_reason(appointment, "Forged", author=mallory)
    with pytest.raises(SignatureInvalid):
        open_reason(forged, appointment)
    with pytest.raises(SignatureInvalid):
        items.verify_item_signature(forged.envelope, author=PATIENT.signing_binding())
    sealed = seal_reason(appointment)
    with pytest.raises(SignatureInvalid):
        open_reason(sealed, appointment, envelope=flip(sealed.envelope, -1))
    with pytest.raises(WrongContext):
        open_reason(sealed, appointment, author=DOCTOR.signing_binding())


def test_server_can_check_authorship_without_the_key() -> None:
    appointment = uuid.uuid4()
    sealed = seal_reason(appointment)
    items.verify_item_signature(sealed.envelope, author=PATIENT.signing_binding())
    header = items.read_item_header(sealed.envelope)
    assert header == items.ItemHeader(
        ItemKind.VISIT_REASON, sealed.item_id, appointment, PATIENT.user_id
    )


def test_a_wrap_of_another_key_is_caught_by_the_commitment() -> None:
    appointment = uuid.uuid4()
    sealed = seal_reason(appointment)
    # Sealed boxes are anonymous: anyone can wrap some key for the patient.
    bogus = items.wrap_item_key_for(
        items.new_item_key(), item_id=sealed.item_id, recipient=PATIENT.encryption_binding()
    )
    key = items.unwrap_item_key(bogus, item_id=sealed.item_id, holder=PATIENT)
    with pytest.raises(DecryptionFailed):
        items.open_visit_reason(
            sealed.envelope,
            item_key=key,
            item_id=sealed.item_id,
            appointment_id=appointment,
            author=PATIENT.signing_binding(),
        )


def test_tampered_ciphertext_is_refused_even_with_a_fresh_signature() -> None:
    appointment = uuid.uuid4()
    sealed = seal_reason(appointment)
    signed = flip(sealed.envelope[:-64], 120)
    resigned = signed + _sodium.ed25519_sign(
        items.SIGNATURE_CONTEXT + signed, PATIENT.signing_secret
    )
    with pytest.raises(DecryptionFailed):
        open_reason(sealed, appointment, envelope=resigned)


def test_wraps_are_bound_to_item_recipient_and_epoch() -> None:
    sealed = seal_reason(uuid.uuid4())
    patient_wrap, group_wrap = sealed.wraps
    with pytest.raises(WrongContext):
        items.unwrap_item_key(patient_wrap, item_id=uuid.uuid4(), holder=PATIENT)
    with pytest.raises(WrongContext):
        items.unwrap_item_key(patient_wrap, item_id=sealed.item_id, holder=DOCTOR)
    with pytest.raises(WrongContext):
        items.unwrap_item_key(group_wrap, item_id=sealed.item_id, holder=PATIENT)
    with pytest.raises(DecryptionFailed):
        items.unwrap_item_key(flip(patient_wrap, -1), item_id=sealed.item_id, holder=PATIENT)
    for bad in (patient_wrap[:-1], patient_wrap + b"\x00", flip(patient_wrap, 1)):
        with pytest.raises(MalformedEnvelope):
            items.unwrap_item_key(bad, item_id=sealed.item_id, holder=PATIENT)


def test_an_outer_header_that_differs_from_the_sealed_copy_is_refused() -> None:
    item_id = uuid.uuid4()
    binding = PATIENT.encryption_binding()
    outer = (
        prefix(EnvelopeType.ITEM_KEY_WRAP)
        + item_id.bytes
        + bytes((binding.subject_kind,))
        + binding.subject_id.bytes
        + u32(binding.epoch)
    )
    inner = flip(outer, 3) + bytes(32)
    wrap = outer + _sodium.seal(inner, binding.public_key)
    with pytest.raises(WrongContext):
        items.unwrap_item_key(wrap, item_id=item_id, holder=PATIENT)


def test_low_order_recipient_keys_are_refused() -> None:
    low_order = KeyBinding(SubjectKind.USER, uuid.uuid4(), KeyPurpose.ENCRYPTION, 1, bytes(32))
    with pytest.raises(InvalidPublicKey):
        items.wrap_item_key_for(items.new_item_key(), item_id=uuid.uuid4(), recipient=low_order)


def test_misuse_is_refused() -> None:
    with pytest.raises(ValueError, match="encryption key"):
        items.wrap_item_key_for(
            items.new_item_key(), item_id=uuid.uuid4(), recipient=PATIENT.signing_binding()
        )
    with pytest.raises(ValueError, match="document"):
        seal_reason(uuid.uuid4(), "x" * items.MAX_BODY_BYTES)
    with pytest.raises(ValueError, match="recipient"):
        items.seal_note(
            item_id=uuid.uuid4(), patient_id=uuid.uuid4(), text="", author=DOCTOR, recipients=[]
        )
    appointment = uuid.uuid4()
    sealed = seal_reason(appointment)
    with pytest.raises(ValueError, match="signing key"):
        open_reason(sealed, appointment, author=PATIENT.encryption_binding())
    with pytest.raises(ValueError, match="32 bytes"):
        items.ItemKey(bytes(16))
    assert sealed.item_key.secret.hex() not in repr(sealed)


def test_an_item_of_another_kind_is_refused() -> None:
    appointment = uuid.uuid4()
    sealed = seal_reason(appointment)
    with pytest.raises(WrongContext):
        items.open_note(
            sealed.envelope,
            item_key=sealed.item_key,
            item_id=sealed.item_id,
            patient_id=appointment,
            author=PATIENT.signing_binding(),
        )


def _sealed_body(kind: ItemKind, body: bytes, context: uuid.UUID) -> items.SealedItem:
    return items._seal_item(
        kind,
        uuid.uuid4(),
        context,
        body,
        PATIENT,
        RECIPIENTS,
        item_key=items.new_item_key(),
        nonce=bytes(24),
        ephemeral_seeds=None,
    )


def test_malformed_bodies_are_refused() -> None:
    context = uuid.uuid4()
    short = _sealed_body(ItemKind.VISIT_REASON, b"too short", context)
    with pytest.raises(MalformedEnvelope):
        open_reason(short, context)
    not_utf8 = _sealed_body(ItemKind.NOTE, b"\xff\xfe", context)
    with pytest.raises(MalformedEnvelope):
        items.open_note(
            not_utf8.envelope,
            item_key=not_utf8.item_key,
            item_id=not_utf8.item_id,
            patient_id=context,
            author=PATIENT.signing_binding(),
        )


def test_malformed_envelopes_are_refused() -> None:
    sealed = seal_reason(uuid.uuid4())
    unknown_kind = sealed.envelope[:2] + b"\x09" + sealed.envelope[3:]
    tiny_ciphertext = sealed.envelope[:117] + sealed.envelope[-64:]
    for bad in (
        tiny_ciphertext,
        unknown_kind,
        sealed.envelope[:150],
        sealed.envelope[:40],
        flip(sealed.envelope, 1),
    ):
        with pytest.raises(MalformedEnvelope):
            items.read_item_header(bad)


def test_the_server_reads_a_wrap_header_without_any_key() -> None:
    sealed = seal_reason(uuid.uuid4())
    patient_wrap, group_wrap = (items.read_wrap_header(w) for w in sealed.wraps)
    assert patient_wrap == items.WrapHeader(sealed.item_id, SubjectKind.USER, PATIENT.user_id, 1)
    assert group_wrap == items.WrapHeader(sealed.item_id, SubjectKind.GROUP, GROUP.group_id, 1)
    with pytest.raises(MalformedEnvelope):
        items.read_wrap_header(sealed.wraps[0][:-1])
    with pytest.raises(MalformedEnvelope):
        items.read_wrap_header(sealed.wraps[0] + b"\x00")
    with pytest.raises(MalformedEnvelope, match="recipient kind"):
        items.read_wrap_header(sealed.wraps[0][:18] + b"\x09" + sealed.wraps[0][19:])


def test_a_conversation_id_binds_practice_and_patient() -> None:
    practice, patient = uuid.uuid4(), uuid.uuid4()
    first = items.conversation_id(practice_id=practice, patient_id=patient)
    assert first == items.conversation_id(practice_id=practice, patient_id=patient)
    assert first != items.conversation_id(practice_id=patient, patient_id=practice)
    assert first != items.conversation_id(practice_id=uuid.uuid4(), patient_id=patient)
    assert (first.version, first.variant) == (8, uuid.RFC_4122)
