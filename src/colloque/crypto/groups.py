"""Practice key groups: one X25519 key pair per epoch, sealed for every member.

:func:`create_group` makes epoch 1; :func:`add_member` seals the current key for a newcomer;
:func:`rotate_group_key` (what removing a member means) makes the next epoch for the remaining members;
:func:`rewrap_item_key` moves an item key from the old epoch's key to the new one. :func:`open_group_key`
refuses an epoch older than the one the client last saw, so a replayed old envelope is caught.
Format: docs/crypto.md, section 5.4.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from uuid import UUID

from colloque.crypto import _sodium
from colloque.crypto._encoding import MAX_U32, UUID_BYTES, EnvelopeType, Reader, prefix, u32
from colloque.crypto.errors import DecryptionFailed, StaleEpoch, WrongContext
from colloque.crypto.items import ItemKey, unwrap_item_key, wrap_item_key_for
from colloque.crypto.keys import UserKeys
from colloque.crypto.transparency import KeyBinding, KeyPurpose, SubjectKind

FIRST_EPOCH = 1
_HEADER_BYTES = 70
CLINICAL_GROUP_CONTEXT = b"colloque/clinical-group/v1"


def clinical_group_id(practice_id: UUID) -> UUID:
    """The id of a practice's practitioners-only group (notes): derived, never chosen.

    Every client computes it from the practice id, so a server cannot point a practitioner at a
    group of its choosing, and the group's leaves in the key directory are found by this id.
    """
    digest = bytearray(
        _sodium.blake2b(CLINICAL_GROUP_CONTEXT + practice_id.bytes, length=UUID_BYTES)
    )
    # A UUIDv8 (RFC 9562, custom), as conversation ids are: a derived id that is a valid UUID.
    digest[6] = (digest[6] & 0x0F) | 0x80
    digest[8] = (digest[8] & 0x3F) | 0x80
    return UUID(bytes=bytes(digest))


@dataclass(frozen=True)
class GroupKey:
    """A group's key pair for one epoch, as a member's client holds it."""

    group_id: UUID
    epoch: int
    public_key: bytes
    secret: bytes = field(repr=False)

    @property
    def encryption_secret(self) -> bytes:
        return self.secret

    def encryption_binding(self) -> KeyBinding:
        """The binding to publish in the key directory (and to wrap item keys for)."""
        return KeyBinding(
            SubjectKind.GROUP, self.group_id, KeyPurpose.ENCRYPTION, self.epoch, self.public_key
        )


@dataclass(frozen=True)
class GroupRotation:
    """A new epoch: the key (for the rotating client) and one wrap per member, by member id."""

    group_key: GroupKey
    wraps: Mapping[UUID, bytes]


def create_group(group_id: UUID, *, members: Sequence[KeyBinding]) -> GroupRotation:
    """Epoch 1 of a new group, sealed for ``members`` (their encryption keys, from the directory)."""
    return _rotate(group_id, FIRST_EPOCH, members, _sodium.random_bytes(32), None)


def rotate_group_key(previous: GroupKey, *, members: Sequence[KeyBinding]) -> GroupRotation:
    """Removing a member: a new key at the next epoch, sealed only for the remaining ``members``.

    Publish the new key's binding in the key directory, then re-wrap item keys with
    :func:`rewrap_item_key`; new items are wrapped for the new key only.
    """
    if previous.epoch >= MAX_U32:
        raise ValueError("no epoch left")
    return _rotate(previous.group_id, previous.epoch + 1, members, _sodium.random_bytes(32), None)


def add_member(group_key: GroupKey, *, member: KeyBinding) -> bytes:
    """Seal the current group key for a new member."""
    return _wrap(group_key, member, None)


@dataclass(frozen=True)
class GroupWrapHeader:
    """The clear header of a group key wrap: what a server may check without opening it."""

    group_id: UUID
    epoch: int
    public_key: bytes
    member_id: UUID


def read_group_wrap_header(wrap: bytes) -> GroupWrapHeader:
    """Parse a group key wrap's clear header; raises MalformedEnvelope unless it is 220 bytes long.

    For the server, which stores wraps opaque: it checks that a wrap is for this group, epoch,
    public key and member. Only the member can check that the sealed part matches (on opening).
    """
    reader = Reader(wrap, EnvelopeType.GROUP_KEY_WRAP)
    header = GroupWrapHeader(reader.uuid(), reader.u32(), reader.take(32), reader.uuid())
    reader.take(_sodium.SEAL_OVERHEAD + _HEADER_BYTES + 32)
    reader.end()
    return header


def open_group_key(
    wrap: bytes, *, expected: KeyBinding, member: UserKeys, last_seen_epoch: int
) -> GroupKey:
    """A member's client opens its wrap of the group key.

    ``expected`` is the group's current encryption key binding from the key directory;
    ``last_seen_epoch`` is the highest epoch this client has opened for the group (0 if none): an older
    epoch raises StaleEpoch. Store the returned key's epoch as the new last seen epoch.
    """
    reader = Reader(wrap, EnvelopeType.GROUP_KEY_WRAP)
    group_id = reader.uuid()
    epoch = reader.u32()
    public_key = reader.take(32)
    member_id = reader.uuid()
    header = reader.consumed()
    sealed = reader.take(_sodium.SEAL_OVERHEAD + _HEADER_BYTES + 32)
    reader.end()
    if group_id != expected.subject_id or expected.subject_kind is not SubjectKind.GROUP:
        raise WrongContext("a key of another group")
    if member_id != member.user_id:
        raise WrongContext("a wrap for another member")
    if epoch < last_seen_epoch:
        raise StaleEpoch("an older group key presented as current")
    if epoch != expected.epoch or public_key != expected.public_key:
        raise WrongContext("not the group key the key directory vouches for")
    inner = _sodium.seal_open(sealed, member.encryption_public, member.encryption_secret)
    if inner[:_HEADER_BYTES] != header:
        raise WrongContext("group key wrap header does not match its sealed copy")
    secret = inner[_HEADER_BYTES:]
    if _sodium.x25519_public_from_secret(secret) != public_key:
        raise DecryptionFailed("the sealed group key does not match its public key")
    return GroupKey(group_id, epoch, public_key, secret)


def rewrap_item_key(
    wrap: bytes, *, item_id: UUID, old_group: GroupKey, new_group: KeyBinding
) -> bytes:
    """After a rotation: open an item key wrapped for ``old_group``, seal it for ``new_group``."""
    if (new_group.subject_kind, new_group.subject_id) != (SubjectKind.GROUP, old_group.group_id):
        raise ValueError("re-wrap within the same group")
    if new_group.epoch <= old_group.epoch:
        raise ValueError("re-wrap towards a newer epoch")
    item_key: ItemKey = unwrap_item_key(wrap, item_id=item_id, holder=old_group)
    return wrap_item_key_for(item_key, item_id=item_id, recipient=new_group)


# Internals (deterministic when given their randomness: test vectors) -------------------------------


def _rotate(
    group_id: UUID,
    epoch: int,
    members: Sequence[KeyBinding],
    secret: bytes,
    ephemeral_seeds: Sequence[bytes] | None,
) -> GroupRotation:
    key = GroupKey(group_id, epoch, _sodium.x25519_public_from_secret(secret), secret)
    seeds: Sequence[bytes | None] = (
        ephemeral_seeds if ephemeral_seeds is not None else [None] * len(members)
    )
    wraps = {
        member.subject_id: _wrap(key, member, seed)
        for member, seed in zip(members, seeds, strict=True)
    }
    if len(wraps) != len(members):
        raise ValueError("a member is listed twice")
    return GroupRotation(key, MappingProxyType(wraps))


def _wrap(key: GroupKey, member: KeyBinding, ephemeral_seed: bytes | None) -> bytes:
    if member.subject_kind is not SubjectKind.USER or member.purpose is not KeyPurpose.ENCRYPTION:
        raise ValueError("members are users' encryption keys")
    header = (
        prefix(EnvelopeType.GROUP_KEY_WRAP)
        + key.group_id.bytes
        + u32(key.epoch)
        + key.public_key
        + member.subject_id.bytes
    )
    plaintext = header + key.secret
    if ephemeral_seed is None:
        return header + _sodium.seal(plaintext, member.public_key)
    return header + _sodium.seal_with_ephemeral_seed(plaintext, member.public_key, ephemeral_seed)
