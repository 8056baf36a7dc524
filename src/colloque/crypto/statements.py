"""Signed statements in the key directory log: who vouches for a new key or a group change.

Three leaf types live in the log beside key bindings (docs/crypto.md, section 5.12), each signed
with Ed25519 over a domain string followed by every byte before the signature:

- :class:`KeyEndorsement` (``0x0A``): a user's new key epoch, signed by the previous epoch's signing
  key (a rotation) or by the new one (a reset, which clients accept only once a person confirmed it);
- :class:`MembershipStatement` (``0x0B``): a hash-linked chain per group of who holds which role,
  each link signed by an admin of the state before it;
- :class:`GroupEpochStatement` (``0x0C``): a group epoch's public key and the exact set of members
  its secret was wrapped for, signed by an admin at a given point of the membership chain.

Pure: no I/O. Every verification raises a :class:`CryptoError` subclass; none returns a boolean.
The server checks what it can from these clear bytes, but clients never rely on that.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import Protocol
from uuid import UUID

from colloque.crypto import _sodium
from colloque.crypto._encoding import MAX_U32, EnvelopeType, Reader, prefix, u32
from colloque.crypto.errors import MalformedEnvelope, ProofInvalid, WrongContext
from colloque.crypto.transparency import HASH_BYTES, KeyBinding, KeyPurpose, SubjectKind, leaf_hash

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


def _check_u32(*values: int) -> None:
    if any(not 0 <= value <= MAX_U32 for value in values):
        raise ValueError("a number does not fit in 32 bits")


def _check_hashes(*hashes: bytes) -> None:
    if any(len(h) != HASH_BYTES for h in hashes):
        raise ValueError("a hash is 32 bytes")


def _verify(domain: bytes, signed: bytes, signature: bytes, key: KeyBinding, signer: UUID) -> None:
    """Raise unless ``key`` is ``signer``'s signing key and made ``signature``."""
    if (key.subject_kind, key.subject_id, key.purpose) != (
        SubjectKind.USER,
        signer,
        KeyPurpose.SIGNING,
    ):
        raise WrongContext("not the signer's signing key")
    _sodium.ed25519_verify(signature, domain + signed, key.public_key)


def _signature(reader: Reader) -> bytes:
    signature = reader.take(SIGNATURE_BYTES)
    reader.end()
    return signature


# Key endorsements (0x0A) ----------------------------------------------------------------------------


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
        _check_u32(self.epoch, self.signer_epoch)
        _check_hashes(self.encryption_leaf_hash, self.signing_leaf_hash)
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
        return cls(user_id, epoch, kind, encryption, signing, signer_epoch, _signature(reader))


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
    _verify(ENDORSEMENT_DOMAIN, endorsement.signed_bytes(), endorsement.signature, signer, user_id)


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


# Membership statements (0x0B) -------------------------------------------------------------------------


@dataclass(frozen=True)
class MembershipStatement:
    """One link of a group's membership chain: ``member`` now holds ``role`` (or was removed)."""

    group_id: UUID
    sequence: int
    previous: bytes
    member_id: UUID
    role: Role
    signer_id: UUID
    signer_epoch: int
    signature: bytes

    def __post_init__(self) -> None:
        _check_u32(self.sequence, self.signer_epoch)
        _check_hashes(self.previous)
        if len(self.signature) != SIGNATURE_BYTES:
            raise ValueError("a signature is 64 bytes")

    def signed_bytes(self) -> bytes:
        return (
            prefix(EnvelopeType.MEMBERSHIP)
            + self.group_id.bytes
            + u32(self.sequence)
            + self.previous
            + self.member_id.bytes
            + bytes((self.role,))
            + self.signer_id.bytes
            + u32(self.signer_epoch)
        )

    def to_leaf(self) -> bytes:
        return self.signed_bytes() + self.signature

    def leaf_hash(self) -> bytes:
        return leaf_hash(self.to_leaf())

    @classmethod
    def from_leaf(cls, leaf: bytes) -> MembershipStatement:
        reader = Reader(leaf, EnvelopeType.MEMBERSHIP)
        group_id, sequence, previous, member_id = (
            reader.uuid(),
            reader.u32(),
            reader.take(32),
            reader.uuid(),
        )
        try:
            role = Role(reader.u8())
        except ValueError:
            raise MalformedEnvelope("unknown role") from None
        signer_id, signer_epoch = reader.uuid(), reader.u32()
        return cls(
            group_id,
            sequence,
            previous,
            member_id,
            role,
            signer_id,
            signer_epoch,
            _signature(reader),
        )


def sign_membership(
    *,
    group_id: UUID,
    sequence: int,
    previous: bytes,
    member_id: UUID,
    role: Role,
    signer: Signer,
) -> MembershipStatement:
    """Link ``sequence`` of the group's chain (``previous`` is the last link's leaf hash)."""
    unsigned = MembershipStatement(
        group_id,
        sequence,
        previous,
        member_id,
        role,
        signer.user_id,
        signer.epoch,
        bytes(SIGNATURE_BYTES),
    )
    signed = unsigned.signed_bytes()
    signature = _sodium.ed25519_sign(MEMBERSHIP_DOMAIN + signed, signer.signing_secret)
    return MembershipStatement.from_leaf(signed + signature)


def verify_membership_signature(statement: MembershipStatement, *, signer: KeyBinding) -> None:
    """Raise unless ``signer`` (the signer's signing binding of the signer epoch) signed it: the
    one check a server can make alone (the chain's rules need the whole chain)."""
    if signer.epoch != statement.signer_epoch:
        raise ProofInvalid("a key of another epoch")
    _verify(
        MEMBERSHIP_DOMAIN,
        statement.signed_bytes(),
        statement.signature,
        signer,
        statement.signer_id,
    )


#: The signing keys statements were made with, by (account id, signing epoch), each already
#: proven in the log by the caller.
SigningKeys = Mapping[tuple[UUID, int], KeyBinding]


def _signing_key(keys: SigningKeys, signer: UUID, epoch: int) -> KeyBinding:
    key = keys.get((signer, epoch))
    if key is None:
        raise ProofInvalid("no proven signing key for the signer")
    return key


@dataclass(frozen=True)
class MembershipChain:
    """A verified chain: each member's role history, so that the state after any sequence can be
    asked without keeping a copy of it per sequence (1,000 members are 1,000 links)."""

    group_id: UUID
    #: Per member, (sequence, role) in increasing sequence: the role from that sequence on.
    history: Mapping[UUID, tuple[tuple[int, Role], ...]]
    sequence: int
    head: bytes  # leaf hash of the last statement (the previous hash of the next one)

    def role_at(self, member: UUID, sequence: int) -> Role:
        """``member``'s role after ``sequence`` (REMOVED if never attested by then)."""
        if not 1 <= sequence <= self.sequence:
            raise ProofInvalid("the chain has no such sequence")
        changes = self.history.get(member, ())
        at = bisect_right(changes, sequence, key=lambda change: change[0])
        return changes[at - 1][1] if at else Role.REMOVED

    def members(self) -> Mapping[UUID, Role]:
        """Everyone attested now (removed accounts left out)."""
        return {
            member: changes[-1][1]
            for member, changes in self.history.items()
            if changes[-1][1] is not Role.REMOVED
        }


def verify_membership_chain(
    group_id: UUID, statements: Sequence[MembershipStatement], *, signing_keys: SigningKeys
) -> MembershipChain:
    """Fold a chain into member states, checking every link; raise at the first bad one.

    Sequence 1 is an admin attesting themselves; each later statement is signed by an admin of
    the state before it and names the previous statement's leaf hash. The last admin stays.
    """
    if not statements:
        raise ProofInvalid("a membership chain starts with a genesis statement")
    roles: dict[UUID, Role] = {}
    history: dict[UUID, list[tuple[int, Role]]] = {}
    admins = 0
    previous = GENESIS_PREVIOUS
    for number, statement in enumerate(statements, start=1):
        if statement.group_id != group_id:
            raise WrongContext("a statement of another group")
        if statement.sequence != number or not _sodium.equal(statement.previous, previous):
            raise ProofInvalid("the membership chain is broken")
        if number == 1:
            if (statement.member_id, statement.role) != (statement.signer_id, Role.ADMIN):
                raise ProofInvalid("the genesis is an admin attesting themselves")
        elif roles.get(statement.signer_id) is not Role.ADMIN:
            raise ProofInvalid("signed by an account that is not an admin")
        key = _signing_key(signing_keys, statement.signer_id, statement.signer_epoch)
        _verify(
            MEMBERSHIP_DOMAIN,
            statement.signed_bytes(),
            statement.signature,
            key,
            statement.signer_id,
        )
        before = roles.get(statement.member_id, Role.REMOVED)
        admins += (statement.role is Role.ADMIN) - (before is Role.ADMIN)
        if not admins:
            raise ProofInvalid("the last admin cannot leave")
        roles[statement.member_id] = statement.role
        history.setdefault(statement.member_id, []).append((number, statement.role))
        previous = statement.leaf_hash()
    return MembershipChain(
        group_id,
        {member: tuple(changes) for member, changes in history.items()},
        len(statements),
        previous,
    )


# Group epoch statements (0x0C) -----------------------------------------------------------------------


def member_set_digest(members: Iterable[tuple[UUID, int]]) -> bytes:
    """BLAKE2b-256 over the (member id, encryption epoch) pairs a group secret was wrapped for."""
    entries = sorted(member.bytes + u32(epoch) for member, epoch in members)
    if len(set(entries)) != len(entries):
        raise ValueError("a member is listed twice")
    return _sodium.blake2b(MEMBER_SET_DOMAIN + b"".join(entries), length=HASH_BYTES)


@dataclass(frozen=True)
class GroupEpochStatement:
    """A group epoch's key and the members it was wrapped for, as an admin attests it."""

    group_id: UUID
    epoch: int
    public_key: bytes
    membership_sequence: int
    member_digest: bytes
    signer_id: UUID
    signer_epoch: int
    signature: bytes

    def __post_init__(self) -> None:
        _check_u32(self.epoch, self.membership_sequence, self.signer_epoch)
        _check_hashes(self.public_key, self.member_digest)
        if len(self.signature) != SIGNATURE_BYTES:
            raise ValueError("a signature is 64 bytes")

    def signed_bytes(self) -> bytes:
        return (
            prefix(EnvelopeType.GROUP_EPOCH)
            + self.group_id.bytes
            + u32(self.epoch)
            + self.public_key
            + u32(self.membership_sequence)
            + self.member_digest
            + self.signer_id.bytes
            + u32(self.signer_epoch)
        )

    def to_leaf(self) -> bytes:
        return self.signed_bytes() + self.signature

    def leaf_hash(self) -> bytes:
        return leaf_hash(self.to_leaf())

    @classmethod
    def from_leaf(cls, leaf: bytes) -> GroupEpochStatement:
        reader = Reader(leaf, EnvelopeType.GROUP_EPOCH)
        group_id, epoch, public_key = reader.uuid(), reader.u32(), reader.take(32)
        sequence, digest = reader.u32(), reader.take(32)
        signer_id, signer_epoch = reader.uuid(), reader.u32()
        return cls(
            group_id,
            epoch,
            public_key,
            sequence,
            digest,
            signer_id,
            signer_epoch,
            _signature(reader),
        )


def sign_group_epoch(
    *,
    group_key: KeyBinding,
    membership_sequence: int,
    members: Iterable[tuple[UUID, int]],
    signer: Signer,
) -> GroupEpochStatement:
    """Attest ``group_key`` (the epoch's binding) and the (member, encryption epoch) wrapped for."""
    if (group_key.subject_kind, group_key.purpose) != (SubjectKind.GROUP, KeyPurpose.ENCRYPTION):
        raise ValueError("a group's encryption binding")
    unsigned = GroupEpochStatement(
        group_key.subject_id,
        group_key.epoch,
        group_key.public_key,
        membership_sequence,
        member_set_digest(members),
        signer.user_id,
        signer.epoch,
        bytes(SIGNATURE_BYTES),
    )
    signed = unsigned.signed_bytes()
    signature = _sodium.ed25519_sign(GROUP_EPOCH_DOMAIN + signed, signer.signing_secret)
    return GroupEpochStatement.from_leaf(signed + signature)


def verify_group_epoch_signature(statement: GroupEpochStatement, *, signer: KeyBinding) -> None:
    """Raise unless ``signer`` (the signer's signing binding of the signer epoch) signed it: what
    a server checks alone."""
    if signer.epoch != statement.signer_epoch:
        raise ProofInvalid("a key of another epoch")
    _verify(
        GROUP_EPOCH_DOMAIN,
        statement.signed_bytes(),
        statement.signature,
        signer,
        statement.signer_id,
    )


def member_entries(members: Iterable[tuple[UUID, int]]) -> bytes:
    """The (member id || u32 epoch) entries of a member set, sorted: what its digest hashes."""
    return b"".join(sorted(member.bytes + u32(epoch) for member, epoch in members))


def parse_member_entries(data: bytes) -> list[tuple[UUID, int]]:
    """The member set :func:`member_entries` wrote."""
    if len(data) % 20:
        raise MalformedEnvelope("member entries are 20 bytes each")
    return [
        (UUID(bytes=data[i : i + 16]), int.from_bytes(data[i + 16 : i + 20], "big"))
        for i in range(0, len(data), 20)
    ]


def verify_group_epoch(
    statement: GroupEpochStatement,
    *,
    group_key: KeyBinding,
    chain: MembershipChain,
    members: Iterable[tuple[UUID, int]],
    signing_keys: SigningKeys,
) -> None:
    """Raise unless an admin at the statement's sequence attested exactly this key and these
    wrapped members, each of them attested (not removed) at that sequence."""
    if (group_key.subject_kind, group_key.purpose) != (SubjectKind.GROUP, KeyPurpose.ENCRYPTION):
        raise WrongContext("not a group's encryption key")
    if (statement.group_id, chain.group_id) != (group_key.subject_id, group_key.subject_id):
        raise WrongContext("a statement of another group")
    if statement.epoch != group_key.epoch or not _sodium.equal(
        statement.public_key, group_key.public_key
    ):
        raise ProofInvalid("the statement attests another group key")
    sequence = statement.membership_sequence
    if chain.role_at(statement.signer_id, sequence) is not Role.ADMIN:
        raise ProofInvalid("signed by an account that is not an admin")
    key = _signing_key(signing_keys, statement.signer_id, statement.signer_epoch)
    _verify(
        GROUP_EPOCH_DOMAIN, statement.signed_bytes(), statement.signature, key, statement.signer_id
    )
    listed = list(members)
    try:
        digest = member_set_digest(listed)
    except ValueError:
        raise ProofInvalid("a member is listed twice") from None
    if not _sodium.equal(digest, statement.member_digest):
        raise ProofInvalid("the group key was wrapped for other members")
    if any(chain.role_at(member, sequence) is Role.REMOVED for member, _epoch in listed):
        raise ProofInvalid("wrapped for an account that is not an attested member")
