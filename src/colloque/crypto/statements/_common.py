"""What the three statement types share: sizes, domains, roles, the signer and the checks."""

from __future__ import annotations

from collections.abc import Mapping
from enum import IntEnum
from typing import Protocol
from uuid import UUID

from colloque.crypto import _sodium
from colloque.crypto._encoding import MAX_U32, EnvelopeType, Reader
from colloque.crypto.errors import ProofInvalid, WrongContext
from colloque.crypto.transparency import HASH_BYTES, KeyBinding, KeyPurpose, SubjectKind

SIGNATURE_BYTES = 64
ENDORSEMENT_DOMAIN = b"colloque/key-endorsement/v1"
MEMBERSHIP_DOMAIN = b"colloque/membership/v1"
GROUP_EPOCH_DOMAIN = b"colloque/group-epoch/v1"
MEMBER_SET_DOMAIN = b"colloque/member-set/v1"
GENESIS_PREVIOUS = bytes(HASH_BYTES)
ENDORSEMENT_BYTES = 2 + 16 + 4 + 1 + 32 + 32 + 4 + SIGNATURE_BYTES
MEMBERSHIP_BYTES = 2 + 16 + 4 + 32 + 16 + 1 + 16 + 4 + SIGNATURE_BYTES
GROUP_EPOCH_BYTES = 2 + 16 + 4 + 32 + 4 + 32 + 16 + 4 + SIGNATURE_BYTES
#: Type bytes, which the server also uses as the statements' purpose codes in its leaf index.
ENDORSEMENT_TYPE = int(EnvelopeType.KEY_ENDORSEMENT)
MEMBERSHIP_TYPE = int(EnvelopeType.MEMBERSHIP)
GROUP_EPOCH_TYPE = int(EnvelopeType.GROUP_EPOCH)


class EndorsementKind(IntEnum):
    ROTATION = 0x01  # signed by the previous epoch's signing key
    RESET = 0x02  # signed by the new signing key: proof of possession only


class Role(IntEnum):
    REMOVED = 0x00
    PRACTITIONER = 0x01
    SECRETARY = 0x02
    ADMIN = 0x03


class Signer(Protocol):
    """Whoever signs a statement: an account's unlocked keys (``keys.UserKeys`` fits)."""

    @property
    def user_id(self) -> UUID: ...

    @property
    def epoch(self) -> int: ...

    @property
    def signing_secret(self) -> bytes: ...


def check_u32(*values: int) -> None:
    if any(not 0 <= value <= MAX_U32 for value in values):
        raise ValueError("a number does not fit in 32 bits")


def check_hashes(*hashes: bytes) -> None:
    if any(len(h) != HASH_BYTES for h in hashes):
        raise ValueError("a hash is 32 bytes")


def verify_signed(
    domain: bytes, signed: bytes, signature: bytes, key: KeyBinding, signer: UUID
) -> None:
    """Raise unless ``key`` is ``signer``'s signing key and made ``signature``."""
    if (key.subject_kind, key.subject_id, key.purpose) != (
        SubjectKind.USER,
        signer,
        KeyPurpose.SIGNING,
    ):
        raise WrongContext("not the signer's signing key")
    _sodium.ed25519_verify(signature, domain + signed, key.public_key)


def read_signature(reader: Reader) -> bytes:
    signature = reader.take(SIGNATURE_BYTES)
    reader.end()
    return signature


SigningKeys = Mapping[tuple[UUID, int], KeyBinding]


def signing_key_of(keys: SigningKeys, signer: UUID, epoch: int) -> KeyBinding:
    key = keys.get((signer, epoch))
    if key is None:
        raise ProofInvalid("no proven signing key for the signer")
    return key
