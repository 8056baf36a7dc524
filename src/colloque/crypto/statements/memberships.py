"""Membership statements (leaf type 0x0B): a hash-linked chain per group of who holds which role,
each link signed by an admin of the state before it.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from uuid import UUID

from colloque.crypto import _sodium
from colloque.crypto._encoding import EnvelopeType, Reader, prefix, u32
from colloque.crypto.errors import MalformedEnvelope, ProofInvalid, WrongContext
from colloque.crypto.statements._common import (
    GENESIS_PREVIOUS,
    MEMBERSHIP_DOMAIN,
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
from colloque.crypto.transparency import KeyBinding, leaf_hash


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
        check_u32(self.sequence, self.signer_epoch)
        check_hashes(self.previous)
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
            read_signature(reader),
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
    verify_signed(
        MEMBERSHIP_DOMAIN,
        statement.signed_bytes(),
        statement.signature,
        signer,
        statement.signer_id,
    )


#: The signing keys statements were made with, by (account id, signing epoch), each already
#: proven in the log by the caller.


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
        key = signing_key_of(signing_keys, statement.signer_id, statement.signer_epoch)
        verify_signed(
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
