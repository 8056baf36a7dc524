"""Group epoch statements (leaf type 0x0C): a group epoch's public key and the exact member set its
secret was wrapped for, signed by an admin at a point of the membership chain.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from uuid import UUID

from colloque.crypto import _sodium
from colloque.crypto._encoding import EnvelopeType, Reader, prefix, u32
from colloque.crypto.errors import MalformedEnvelope, ProofInvalid, WrongContext
from colloque.crypto.groups import clinical_group_id
from colloque.crypto.statements._common import (
    GROUP_EPOCH_DOMAIN,
    MEMBER_SET_DOMAIN,
    SIGNATURE_BYTES,
    Role,
    Signer,
    SigningKeys,
    check_hashes,
    check_u32,
    read_signature,
    signing_key_of,
    verify_signed,
)
from colloque.crypto.statements.memberships import MembershipChain
from colloque.crypto.transparency import HASH_BYTES, KeyBinding, KeyPurpose, SubjectKind, leaf_hash


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
        check_u32(self.epoch, self.membership_sequence, self.signer_epoch)
        check_hashes(self.public_key, self.member_digest)
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
            read_signature(reader),
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
    verify_signed(
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
    _verify_epoch(
        statement,
        group_key=group_key,
        group_id=chain.group_id,
        chain=chain,
        members=members,
        signing_keys=signing_keys,
        signer_roles=frozenset({Role.ADMIN}),
        member_roles=frozenset({Role.PRACTITIONER, Role.SECRETARY, Role.ADMIN}),
    )


def verify_clinical_epoch(
    statement: GroupEpochStatement,
    *,
    group_key: KeyBinding,
    chain: MembershipChain,
    members: Iterable[tuple[UUID, int]],
    signing_keys: SigningKeys,
) -> None:
    """The same for the practice's practitioners-only group (``clinical_group_id`` of the chain's
    practice): signed by a practitioner at the statement's sequence, and wrapped for practitioners
    only, so that no secretary or admin of the chain ever holds the key that opens notes."""
    _verify_epoch(
        statement,
        group_key=group_key,
        group_id=clinical_group_id(chain.group_id),
        chain=chain,
        members=members,
        signing_keys=signing_keys,
        signer_roles=frozenset({Role.PRACTITIONER}),
        member_roles=frozenset({Role.PRACTITIONER}),
    )


def _verify_epoch(
    statement: GroupEpochStatement,
    *,
    group_key: KeyBinding,
    group_id: UUID,
    chain: MembershipChain,
    members: Iterable[tuple[UUID, int]],
    signing_keys: SigningKeys,
    signer_roles: frozenset[Role],
    member_roles: frozenset[Role],
) -> None:
    if (group_key.subject_kind, group_key.purpose) != (SubjectKind.GROUP, KeyPurpose.ENCRYPTION):
        raise WrongContext("not a group's encryption key")
    if (statement.group_id, group_key.subject_id) != (group_id, group_id):
        raise WrongContext("a statement of another group")
    if statement.epoch != group_key.epoch or not _sodium.equal(
        statement.public_key, group_key.public_key
    ):
        raise ProofInvalid("the statement attests another group key")
    sequence = statement.membership_sequence
    if chain.role_at(statement.signer_id, sequence) not in signer_roles:
        raise ProofInvalid("signed by an account whose role may not make this group's key")
    key = signing_key_of(signing_keys, statement.signer_id, statement.signer_epoch)
    verify_signed(
        GROUP_EPOCH_DOMAIN, statement.signed_bytes(), statement.signature, key, statement.signer_id
    )
    listed = list(members)
    try:
        digest = member_set_digest(listed)
    except ValueError:
        raise ProofInvalid("a member is listed twice") from None
    if not _sodium.equal(digest, statement.member_digest):
        raise ProofInvalid("the group key was wrapped for other members")
    if any(chain.role_at(member, sequence) not in member_roles for member, _epoch in listed):
        raise ProofInvalid("wrapped for an account that is not an attested member of this group")
