"""Items (a visit reason with its visit type, a note, a message): each under its own key, signed by its author.

Sealing: :func:`seal_visit_reason`, :func:`seal_note`, :func:`seal_message` (each returns the envelope and
the item key wrapped for every recipient). Opening: :func:`unwrap_item_key`, then :func:`open_visit_reason`,
:func:`open_note` or :func:`open_message`. More recipients later: :func:`wrap_item_key_for`. The server
can check authorship without any key: :func:`verify_item_signature`. Format: docs/crypto.md, section 5.2.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Protocol
from uuid import UUID

from colloque.crypto import _sodium
from colloque.crypto._encoding import UUID_BYTES, EnvelopeType, Reader, prefix, u32
from colloque.crypto.errors import DecryptionFailed, MalformedEnvelope, WrongContext
from colloque.crypto.keys import UserKeys
from colloque.crypto.transparency import KeyBinding, KeyPurpose, SubjectKind

PAD_BLOCK = 256
MAX_BODY_BYTES = 65_536
COMMITMENT_CONTEXT = b"colloque/item-key-commitment/v1"
SIGNATURE_CONTEXT = b"colloque/item-signature/v1"
CONVERSATION_CONTEXT = b"colloque/conversation/v1"
_HEADER_BYTES = 107
_WRAP_HEADER_BYTES = 39
_MAX_CIPHERTEXT = MAX_BODY_BYTES + PAD_BLOCK + _sodium.TAG_BYTES


class ItemKind(IntEnum):
    VISIT_REASON = 0x01  # context: the appointment
    NOTE = 0x02  # context: the patient
    MESSAGE = 0x03  # context: the conversation
    DOCUMENT = 0x04  # context: the patient; the body describes a stream (crypto.document_items)


@dataclass(frozen=True)
class ItemKey:
    """A random 32-byte key for one item or document."""

    secret: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if len(self.secret) != _sodium.KEY_BYTES:
            raise ValueError("an item key is 32 bytes")


def new_item_key() -> ItemKey:
    return ItemKey(_sodium.random_bytes(_sodium.KEY_BYTES))


class KeyPairHolder(Protocol):
    """Whoever can open a wrap: a user's keys or a group's key for one epoch."""

    @property
    def encryption_secret(self) -> bytes: ...

    def encryption_binding(self) -> KeyBinding: ...


@dataclass(frozen=True)
class SealedItem:
    """A new item: the envelope to store, one wrap per recipient (same order), and its key."""

    item_id: UUID
    envelope: bytes
    wraps: tuple[bytes, ...]
    item_key: ItemKey = field(repr=False)


@dataclass(frozen=True)
class VisitReason:
    visit_type_id: UUID
    reason: str


@dataclass(frozen=True)
class WrapHeader:
    """The clear part of an item key wrap: which item, for whom, at which key epoch."""

    item_id: UUID
    recipient_kind: SubjectKind
    recipient_id: UUID
    epoch: int


@dataclass(frozen=True)
class ItemHeader:
    """The clear part of an item envelope (what the server sees anyway)."""

    kind: ItemKind
    item_id: UUID
    context_id: UUID
    author_id: UUID


# Sealing ---------------------------------------------------------------------------------------------


def seal_visit_reason(
    *,
    item_id: UUID,
    appointment_id: UUID,
    visit_type_id: UUID,
    reason: str,
    author: UserKeys,
    recipients: Sequence[KeyBinding],
) -> SealedItem:
    """Encrypt a visit reason and its visit type for an appointment, for the patient and the practice."""
    body = visit_type_id.bytes + reason.encode("utf-8")
    return _seal_random(ItemKind.VISIT_REASON, item_id, appointment_id, body, author, recipients)


def seal_note(
    *,
    item_id: UUID,
    patient_id: UUID,
    text: str,
    author: UserKeys,
    recipients: Sequence[KeyBinding],
) -> SealedItem:
    body = text.encode("utf-8")
    return _seal_random(ItemKind.NOTE, item_id, patient_id, body, author, recipients)


def seal_message(
    *,
    item_id: UUID,
    conversation_id: UUID,
    text: str,
    author: UserKeys,
    recipients: Sequence[KeyBinding],
) -> SealedItem:
    body = text.encode("utf-8")
    return _seal_random(ItemKind.MESSAGE, item_id, conversation_id, body, author, recipients)


def wrap_item_key_for(item_key: ItemKey, *, item_id: UUID, recipient: KeyBinding) -> bytes:
    """The item key sealed for one recipient's encryption key (from the key directory)."""
    return _wrap(item_key, item_id, recipient, None)


# Opening ---------------------------------------------------------------------------------------------


def unwrap_item_key(wrap: bytes, *, item_id: UUID, holder: KeyPairHolder) -> ItemKey:
    """Open a wrap made for ``holder`` (a user's keys, or a group key of the wrap's epoch)."""
    binding = holder.encryption_binding()
    reader = Reader(wrap, EnvelopeType.ITEM_KEY_WRAP)
    wrapped_for_item = reader.uuid()
    recipient_kind = reader.u8()
    recipient_id = reader.uuid()
    epoch = reader.u32()
    header = reader.consumed()
    sealed = reader.take(_sodium.SEAL_OVERHEAD + _WRAP_HEADER_BYTES + _sodium.KEY_BYTES)
    reader.end()
    if wrapped_for_item != item_id:
        raise WrongContext("this key wrap belongs to another item")
    if (recipient_kind, recipient_id, epoch) != (
        binding.subject_kind,
        binding.subject_id,
        binding.epoch,
    ):
        raise WrongContext("this key wrap is for another recipient or epoch")
    inner = _sodium.seal_open(sealed, binding.public_key, holder.encryption_secret)
    if inner[:_WRAP_HEADER_BYTES] != header:
        raise WrongContext("key wrap header does not match its sealed copy")
    return ItemKey(inner[_WRAP_HEADER_BYTES:])


def open_visit_reason(
    envelope: bytes,
    *,
    item_key: ItemKey,
    item_id: UUID,
    appointment_id: UUID,
    author: KeyBinding,
) -> VisitReason:
    """Verify and decrypt a visit reason. ``author`` is the author's signing key from the directory."""
    body = _open(envelope, ItemKind.VISIT_REASON, item_key, item_id, appointment_id, author)
    if len(body) < UUID_BYTES:
        raise MalformedEnvelope("visit reason is too short")
    return VisitReason(UUID(bytes=body[:UUID_BYTES]), _text(body[UUID_BYTES:]))


def open_note(
    envelope: bytes, *, item_key: ItemKey, item_id: UUID, patient_id: UUID, author: KeyBinding
) -> str:
    return _text(_open(envelope, ItemKind.NOTE, item_key, item_id, patient_id, author))


def open_message(
    envelope: bytes,
    *,
    item_key: ItemKey,
    item_id: UUID,
    conversation_id: UUID,
    author: KeyBinding,
) -> str:
    return _text(_open(envelope, ItemKind.MESSAGE, item_key, item_id, conversation_id, author))


def read_item_header(envelope: bytes) -> ItemHeader:
    """Parse the clear header (no verification: pair with :func:`verify_item_signature`)."""
    return _parse(envelope).header


def read_wrap_header(wrap: bytes) -> WrapHeader:
    """Parse a wrap's clear header and check its length (no key needed, nothing verified)."""
    reader = Reader(wrap, EnvelopeType.ITEM_KEY_WRAP)
    item_id = reader.uuid()
    try:
        recipient_kind = SubjectKind(reader.u8())
    except ValueError:
        raise MalformedEnvelope("unknown recipient kind") from None
    recipient_id = reader.uuid()
    epoch = reader.u32()
    reader.take(_sodium.SEAL_OVERHEAD + _WRAP_HEADER_BYTES + _sodium.KEY_BYTES)
    reader.end()
    return WrapHeader(item_id, recipient_kind, recipient_id, epoch)


def conversation_id(*, practice_id: UUID, patient_id: UUID) -> UUID:
    """The id of the one conversation between a practice and a patient: derived, never stored.

    Both sides compute it, so a message's context binds it to this practice and this patient.
    """
    digest = bytearray(
        _sodium.blake2b(
            CONVERSATION_CONTEXT + practice_id.bytes + patient_id.bytes, length=UUID_BYTES
        )
    )
    # A UUIDv8 (RFC 9562, custom): a derived id, and still a well-formed UUID for any library.
    digest[6] = (digest[6] & 0x0F) | 0x80
    digest[8] = (digest[8] & 0x3F) | 0x80
    return UUID(bytes=bytes(digest))


def verify_item_signature(envelope: bytes, *, author: KeyBinding) -> None:
    """Raise unless the envelope is signed by ``author`` and names it as author (no key needed)."""
    parsed = _parse(envelope)
    _check_author(parsed, author)


# Internals (deterministic when given their randomness: test vectors) -------------------------------


def _seal_random(
    kind: ItemKind,
    item_id: UUID,
    context_id: UUID,
    body: bytes,
    author: UserKeys,
    recipients: Sequence[KeyBinding],
) -> SealedItem:
    return _seal_item(
        kind,
        item_id,
        context_id,
        body,
        author,
        recipients,
        item_key=new_item_key(),
        nonce=_sodium.random_bytes(_sodium.NONCE_BYTES),
        ephemeral_seeds=None,
    )


def _commitment(item_key: ItemKey, item_id: UUID) -> bytes:
    return _sodium.blake2b(COMMITMENT_CONTEXT + item_id.bytes, length=32, key=item_key.secret)


def _seal_item(
    kind: ItemKind,
    item_id: UUID,
    context_id: UUID,
    body: bytes,
    author: UserKeys,
    recipients: Sequence[KeyBinding],
    *,
    item_key: ItemKey,
    nonce: bytes,
    ephemeral_seeds: Sequence[bytes] | None,
) -> SealedItem:
    if len(body) > MAX_BODY_BYTES:
        raise ValueError("item too large: store it as a document")
    if not recipients:
        raise ValueError("an item needs at least one recipient")
    header = (
        prefix(EnvelopeType.ITEM)
        + bytes((kind,))
        + item_id.bytes
        + context_id.bytes
        + author.user_id.bytes
        + _commitment(item_key, item_id)
        + nonce
    )
    signed = header + _sodium.aead_encrypt(
        _sodium.pad(body, PAD_BLOCK), header, nonce, item_key.secret
    )
    signature = _sodium.ed25519_sign(SIGNATURE_CONTEXT + signed, author.signing_secret)
    seeds: Sequence[bytes | None] = (
        ephemeral_seeds if ephemeral_seeds is not None else [None] * len(recipients)
    )
    wraps = tuple(
        _wrap(item_key, item_id, recipient, seed)
        for recipient, seed in zip(recipients, seeds, strict=True)
    )
    return SealedItem(item_id, signed + signature, wraps, item_key)


def _wrap(
    item_key: ItemKey, item_id: UUID, recipient: KeyBinding, ephemeral_seed: bytes | None
) -> bytes:
    if recipient.purpose is not KeyPurpose.ENCRYPTION:
        raise ValueError("wrap for an encryption key, not a signing key")
    header = (
        prefix(EnvelopeType.ITEM_KEY_WRAP)
        + item_id.bytes
        + bytes((recipient.subject_kind,))
        + recipient.subject_id.bytes
        + u32(recipient.epoch)
    )
    plaintext = header + item_key.secret
    if ephemeral_seed is None:
        return header + _sodium.seal(plaintext, recipient.public_key)
    return header + _sodium.seal_with_ephemeral_seed(
        plaintext, recipient.public_key, ephemeral_seed
    )


@dataclass(frozen=True)
class _Parsed:
    header: ItemHeader
    commitment: bytes
    nonce: bytes
    aad: bytes
    ciphertext: bytes
    signed: bytes
    signature: bytes


def _parse(envelope: bytes) -> _Parsed:
    reader = Reader(envelope, EnvelopeType.ITEM)
    try:
        kind = ItemKind(reader.u8())
    except ValueError:
        raise MalformedEnvelope("unknown item kind") from None
    item_id = reader.uuid()
    context_id = reader.uuid()
    author_id = reader.uuid()
    commitment = reader.take(32)
    nonce = reader.take(_sodium.NONCE_BYTES)
    aad = reader.consumed()
    ciphertext = reader.take_all_but(_sodium.SIGNATURE_BYTES)
    signed = reader.consumed()
    signature = reader.rest()
    if not PAD_BLOCK + _sodium.TAG_BYTES <= len(ciphertext) <= _MAX_CIPHERTEXT:
        raise MalformedEnvelope("item ciphertext has an impossible size")
    return _Parsed(
        ItemHeader(kind, item_id, context_id, author_id),
        commitment,
        nonce,
        aad,
        ciphertext,
        signed,
        signature,
    )


def _check_author(parsed: _Parsed, author: KeyBinding) -> None:
    if author.purpose is not KeyPurpose.SIGNING or author.subject_kind is not SubjectKind.USER:
        raise ValueError("the author is a user's signing key")
    if parsed.header.author_id != author.subject_id:
        raise WrongContext("item written by someone else")
    _sodium.ed25519_verify(parsed.signature, SIGNATURE_CONTEXT + parsed.signed, author.public_key)


def _open(
    envelope: bytes,
    kind: ItemKind,
    item_key: ItemKey,
    item_id: UUID,
    context_id: UUID,
    author: KeyBinding,
) -> bytes:
    parsed = _parse(envelope)
    if parsed.header.kind is not kind:
        raise WrongContext("an item of another kind")
    if (parsed.header.item_id, parsed.header.context_id) != (item_id, context_id):
        raise WrongContext("an item of another appointment, patient or conversation")
    _check_author(parsed, author)
    if not _sodium.equal(parsed.commitment, _commitment(item_key, item_id)):
        raise DecryptionFailed("the item key is not the one the author committed to")
    padded = _sodium.aead_decrypt(parsed.ciphertext, parsed.aad, parsed.nonce, item_key.secret)
    return _sodium.unpad(padded, PAD_BLOCK)


def _text(body: bytes) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedEnvelope("text is not UTF-8") from None
