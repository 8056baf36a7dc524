"""Key endorsements (leaf type 0x0A): a user's new key epoch, vouched for by the previous epoch's
signing key (a rotation) or by the new one (a reset).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from uuid import UUID

from colloque.crypto import _sodium
from colloque.crypto._encoding import EnvelopeType, Reader, prefix, u32
from colloque.crypto.errors import MalformedEnvelope, ProofInvalid, WrongContext
from colloque.crypto.statements._common import (
    ENDORSEMENT_DOMAIN,
    SIGNATURE_BYTES,
    EndorsementKind,
    Signer,
    check_hashes,
    check_u32,
    read_signature,
    verify_signed,
)
from colloque.crypto.transparency import KeyBinding, KeyPurpose, SubjectKind, leaf_hash


@dataclass(frozen=True)
class KeyEndorsement:
    """A user's key epoch vouched for: the two bindings it names, and by which signing key."""

    user_id: UUID
    epoch: int
    kind: EndorsementKind
    encryption_leaf_hash: bytes
    signing_leaf_hash: bytes
    signer_epoch: int
    signature: bytes

    def __post_init__(self) -> None:
        check_u32(self.epoch, self.signer_epoch)
        check_hashes(self.encryption_leaf_hash, self.signing_leaf_hash)
        if len(self.signature) != SIGNATURE_BYTES:
            raise ValueError("a signature is 64 bytes")

    def signed_bytes(self) -> bytes:
        return (
            prefix(EnvelopeType.KEY_ENDORSEMENT)
            + self.user_id.bytes
            + u32(self.epoch)
            + bytes((self.kind,))
            + self.encryption_leaf_hash
            + self.signing_leaf_hash
            + u32(self.signer_epoch)
        )

    def to_leaf(self) -> bytes:
        return self.signed_bytes() + self.signature

    def leaf_hash(self) -> bytes:
        return leaf_hash(self.to_leaf())

    @classmethod
    def from_leaf(cls, leaf: bytes) -> KeyEndorsement:
        reader = Reader(leaf, EnvelopeType.KEY_ENDORSEMENT)
        user_id, epoch = reader.uuid(), reader.u32()
        try:
            kind = EndorsementKind(reader.u8())
        except ValueError:
            raise MalformedEnvelope("unknown endorsement kind") from None
        encryption, signing, signer_epoch = reader.take(32), reader.take(32), reader.u32()
        return cls(user_id, epoch, kind, encryption, signing, signer_epoch, read_signature(reader))


def _new_epoch_bindings(encryption: KeyBinding, signing: KeyBinding) -> UUID:
    if (
        encryption.subject_kind is not SubjectKind.USER
        or (encryption.purpose, signing.purpose) != (KeyPurpose.ENCRYPTION, KeyPurpose.SIGNING)
        or (signing.subject_kind, signing.subject_id, signing.epoch)
        != (SubjectKind.USER, encryption.subject_id, encryption.epoch)
    ):
        raise ValueError("an encryption and a signing binding of one user and epoch")
    return encryption.subject_id


def endorse_keys(
    *, encryption: KeyBinding, signing: KeyBinding, kind: EndorsementKind, signer: Signer
) -> KeyEndorsement:
    """Vouch for a new key epoch: a rotation by the previous epoch's keys, a reset by the new ones."""
    user_id = _new_epoch_bindings(encryption, signing)
    expected = encryption.epoch - 1 if kind is EndorsementKind.ROTATION else encryption.epoch
    if signer.user_id != user_id or signer.epoch != expected or encryption.epoch < 2:
        raise ValueError("a rotation is signed by epoch - 1, a reset by the new keys (epoch > 1)")
    unsigned = KeyEndorsement(
        user_id,
        encryption.epoch,
        kind,
        encryption.leaf_hash(),
        signing.leaf_hash(),
        signer.epoch,
        bytes(SIGNATURE_BYTES),
    )
    signed = unsigned.signed_bytes()
    signature = _sodium.ed25519_sign(ENDORSEMENT_DOMAIN + signed, signer.signing_secret)
    return KeyEndorsement.from_leaf(signed + signature)


def verify_endorsement(
    endorsement: KeyEndorsement, *, encryption: KeyBinding, signing: KeyBinding, signer: KeyBinding
) -> None:
    """Raise unless ``endorsement`` names exactly these two bindings and ``signer`` signed it.

    ``signer`` is the signing binding of the epoch before (rotation) or ``signing`` itself (reset).
    """
    try:
        user_id = _new_epoch_bindings(encryption, signing)
    except ValueError:
        raise WrongContext("not one user's bindings of one epoch") from None
    if (endorsement.user_id, endorsement.epoch) != (user_id, encryption.epoch):
        raise WrongContext("an endorsement of another user or epoch")
    if not (
        _sodium.equal(endorsement.encryption_leaf_hash, encryption.leaf_hash())
        and _sodium.equal(endorsement.signing_leaf_hash, signing.leaf_hash())
    ):
        raise ProofInvalid("the endorsement names other keys")
    expected = (
        encryption.epoch - 1 if endorsement.kind is EndorsementKind.ROTATION else encryption.epoch
    )
    if endorsement.signer_epoch != expected or signer.epoch != expected:
        raise ProofInvalid("the endorsement is signed by the wrong epoch")
    verify_signed(
        ENDORSEMENT_DOMAIN, endorsement.signed_bytes(), endorsement.signature, signer, user_id
    )


@dataclass(frozen=True)
class ChainEpoch:
    """One verified epoch of a user's keys; ``kind`` is ``None`` for epoch 1 (first use)."""

    encryption: KeyBinding
    signing: KeyBinding
    kind: EndorsementKind | None


def verify_key_chain(
    user_id: UUID, bindings: Iterable[KeyBinding], endorsements: Iterable[KeyEndorsement]
) -> list[ChainEpoch]:
    """A user's epochs 1..n, each after the first endorsed; raise on a gap, an extra or a bad link.

    Epoch 1 is trusted on first use. A reset epoch verifies only as proof of possession: whoever
    relies on it must have a person confirm its fingerprint.
    """
    by_epoch: dict[int, dict[KeyPurpose, KeyBinding]] = {}
    for binding in bindings:
        if (binding.subject_kind, binding.subject_id) != (SubjectKind.USER, user_id):
            raise WrongContext("a binding of another subject")
        if binding.purpose in by_epoch.setdefault(binding.epoch, {}):
            raise ProofInvalid("two keys for one epoch and purpose")
        by_epoch[binding.epoch][binding.purpose] = binding
    endorsed: dict[int, KeyEndorsement] = {}
    for endorsement in endorsements:
        if endorsement.epoch in endorsed:
            raise ProofInvalid("two endorsements for one epoch")
        endorsed[endorsement.epoch] = endorsement
    if sorted(by_epoch) != list(range(1, len(by_epoch) + 1)):
        raise ProofInvalid("the key epochs do not run from 1 without gaps")
    if sorted(endorsed) != list(range(2, len(by_epoch) + 1)):
        raise ProofInvalid("an epoch without an endorsement, or an endorsement without keys")
    chain: list[ChainEpoch] = []
    for epoch in sorted(by_epoch):
        pair = by_epoch[epoch]
        if len(pair) != len(KeyPurpose):
            raise ProofInvalid("an epoch without both keys")
        encryption, signing = pair[KeyPurpose.ENCRYPTION], pair[KeyPurpose.SIGNING]
        if epoch == 1:
            chain.append(ChainEpoch(encryption, signing, None))
            continue
        endorsement = endorsed[epoch]
        signer = signing if endorsement.kind is EndorsementKind.RESET else chain[-1].signing
        verify_endorsement(endorsement, encryption=encryption, signing=signing, signer=signer)
        chain.append(ChainEpoch(encryption, signing, endorsement.kind))
    return chain
