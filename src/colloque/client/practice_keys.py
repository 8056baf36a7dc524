"""The client's half of practice key groups: make, open, share and rotate the group key.

Every member key is checked against the key directory before anything is wrapped for it, and the
group key is opened only if its binding is proven in the log and its epoch is not older than the
last one this client opened for the group (a replayed old key is refused: ``StaleEpoch``).
The practitioners' group (``clinical=True``; notes are sealed to it) is made, opened, shared and
rotated the same way, by practitioners, for the practitioners the signed chain attests.
Format and flows: docs/crypto.md, section 5.4.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from colloque.client.directory import KeyDirectory, UnsignedClinicalGroup, UnsignedPractice
from colloque.client.encoding import b64, unb64
from colloque.crypto.errors import CryptoError, MalformedEnvelope, ProofInvalid, StaleEpoch
from colloque.crypto.groups import (
    GroupKey,
    add_member,
    clinical_group_id,
    create_group,
    open_group_key,
    read_group_wrap_header,
    rotate_group_key,
)
from colloque.crypto.keys import UserKeys
from colloque.crypto.statements import (
    GENESIS_PREVIOUS,
    MembershipChain,
    Role,
    sign_group_epoch,
    sign_membership,
)
from colloque.crypto.transparency import KeyBinding, KeyPurpose, SubjectKind, fingerprint

Json = dict[str, Any]
#: ``request(method, path, body)``: the API's JSON answer (``None`` for an empty one).
Request = Callable[[str, str, Json | None], Any]


#: The practice's member roles a statement can attest.
ROLES = {"practitioner": Role.PRACTITIONER, "secretary": Role.SECRETARY, "admin": Role.ADMIN}


class NotWrappedYet(MalformedEnvelope):
    """The group's current key is not wrapped for this member yet: another member's client
    wraps it for them (``wrap_for_pending``) the next time it acts."""


class RemovalIgnored(CryptoError):
    """The server still lists an account this client just removed: no rotation is made for it."""


@dataclass(frozen=True)
class Member:
    account_id: UUID
    role: str
    #: Proven in the key directory; ``None`` for an account without keys (nothing to wrap for).
    key: KeyBinding | None
    #: Holds a wrap of the current epoch's key.
    wrapped: bool


class PracticeKeys:
    def __init__(self, request: Request, *, directory: KeyDirectory, me: UserKeys) -> None:
        self._request = request
        self._directory = directory
        self._me = me
        #: The highest epoch opened per group: never accept an older one as current.
        self.last_seen_epoch: dict[UUID, int] = {}

    def _path(self, practice_id: UUID, suffix: str = "", *, clinical: bool = False) -> str:
        group = "clinical-key-group" if clinical else "key-group"
        return f"/api/v1/practices/{practice_id}/{group}{suffix}"

    @staticmethod
    def _group_id(practice_id: UUID, clinical: bool) -> UUID:
        return clinical_group_id(practice_id) if clinical else practice_id

    def _signed_key(self, practice_id: UUID, clinical: bool) -> KeyBinding:
        if clinical:
            return self._directory.clinical_key(practice_id)
        return self._directory.practice_key(practice_id)

    def members(
        self, practice_id: UUID, *, clinical: bool = False
    ) -> tuple[int | None, list[Member]]:
        """The current epoch and the members (practitioners, for their group), each key proven
        against the directory."""
        answer = self._request("GET", self._path(practice_id, "/members", clinical=clinical), None)
        members = []
        for out in answer["members"]:
            account_id = UUID(out["account_id"])
            key = None
            if out["encryption_key"] is not None:
                key = self._directory.verify_binding(
                    out["encryption_key"],
                    note=answer["signed_checkpoint"],
                    subject_kind=SubjectKind.USER,
                    subject_id=account_id,
                    purpose=KeyPurpose.ENCRYPTION,
                )
                if key.epoch > 1:
                    self._check_chain(key)
            members.append(Member(account_id, out["role"], key, out["wrapped"]))
        return answer["epoch"], members

    def _check_chain(self, key: KeyBinding) -> None:
        """A key of a later epoch is wrapped for only as the end of its endorsed chain (and,
        after a reset, once confirmed): a proven binding alone may be the server's own key.
        Epoch 1 starts a chain (trust on first use), so most members cost no extra request."""
        current = self._directory.user_keys(key.subject_id).bindings[KeyPurpose.ENCRYPTION]
        if current != key:
            raise ProofInvalid("a member key that is not the end of its chain")

    @staticmethod
    def _attested(
        chain: MembershipChain, members: list[Member], *, clinical: bool = False
    ) -> list[Member]:
        """Only the members the verified chain attests (as practitioners, for their group): a
        member the server lists and no admin signed for gets no key."""
        attested = chain.members()
        return [
            m
            for m in members
            if m.account_id in attested
            and (not clinical or attested[m.account_id] is Role.PRACTITIONER)
        ]

    def _statement(
        self, chain: MembershipChain, key: GroupKey, members: list[KeyBinding]
    ) -> dict[str, str]:
        """The group epoch statement: this admin attests the new key and exactly the members it is
        wrapped for, at the chain's sequence the member list was filtered by."""
        statement = sign_group_epoch(
            group_key=key.encryption_binding(),
            membership_sequence=chain.sequence,
            members=[(m.subject_id, m.epoch) for m in members],
            signer=self._me,
        )
        return {"statement": b64(statement.to_leaf())}

    def _chain(self, practice_id: UUID) -> MembershipChain:
        chain = self._directory.membership_chain(practice_id)
        if chain is None:
            raise UnsignedPractice
        return chain

    def _sign_chain(self, practice_id: UUID, members: list[Member]) -> MembershipChain:
        """The practice's chain, its genesis signed first when it has none: this admin attests
        themselves, then every member with a key as the server lists them now. That list is
        trusted once, as a first contact; from then on only a signed statement changes it."""
        chain = self._directory.membership_chain(practice_id)
        if chain is not None:
            return chain
        me = self._me.user_id
        steps = [(me, Role.ADMIN)] + [
            (m.account_id, ROLES[m.role])
            for m in members
            if m.key is not None and m.account_id != me
        ]
        self._append(practice_id, None, steps)
        return self._chain(practice_id)

    def attest_member(self, practice_id: UUID, account_id: UUID, role: Role) -> int:
        """Sign that ``account_id`` holds ``role`` (admins); the genesis (this admin attesting
        themselves) first if the practice has none. Returns the chain's new sequence."""
        chain = self._directory.membership_chain(practice_id)
        me = self._me.user_id
        steps = [] if chain is not None else [(me, Role.ADMIN)]
        if chain is not None or (account_id, role) != (me, Role.ADMIN):
            steps.append((account_id, role))
        return self._append(practice_id, chain, steps)

    def change_role(
        self,
        practice_id: UUID,
        account_id: UUID,
        role: Role,
        practitioner_id: UUID | None = None,
    ) -> int | None:
        """Give a member another role (admins; a practitioner names their agenda). In a practice
        that signs its memberships, the change is this admin's statement at the chain's next
        sequence, signed over the chain this client verified; without a chain, the change is
        sent unsigned. Returns the chain's new sequence (``None`` without a chain)."""
        names = {value: name for name, value in ROLES.items()}
        if role not in names:
            raise ValueError("a role change names a role a member can hold")
        chain = self._directory.membership_chain(practice_id)
        body: Json = {
            "role": names[role],
            "practitioner_id": practitioner_id and str(practitioner_id),
        }
        if chain is not None:
            statement = sign_membership(
                group_id=practice_id,
                sequence=chain.sequence + 1,
                previous=chain.head,
                member_id=account_id,
                role=role,
                signer=self._me,
            )
            body["statement"] = b64(statement.to_leaf())
        self._request("PATCH", f"/api/v1/practices/{practice_id}/members/{account_id}", body)
        return None if chain is None else chain.sequence + 1

    def _append(
        self, practice_id: UUID, chain: MembershipChain | None, steps: list[tuple[UUID, Role]]
    ) -> int:
        sequence, head = (chain.sequence, chain.head) if chain else (0, GENESIS_PREVIOUS)
        leaves = []
        for member, role in steps:
            statement = sign_membership(
                group_id=practice_id,
                sequence=sequence + 1,
                previous=head,
                member_id=member,
                role=role,
                signer=self._me,
            )
            leaves.append(b64(statement.to_leaf()))
            sequence, head = sequence + 1, statement.leaf_hash()
        self._request("POST", self._path(practice_id, "/memberships"), {"statements": leaves})
        return sequence

    def _wraps(self, wraps: dict[UUID, bytes]) -> list[Json]:
        return [{"account_id": str(a), "wrap": b64(w)} for a, w in wraps.items()]

    def create_group(self, practice_id: UUID) -> GroupKey:
        """Epoch 1 (admins), wrapped for every attested member with a key, with its group epoch
        statement; the practice's chain is signed first if it has none (:meth:`_sign_chain`)."""
        _epoch, members = self.members(practice_id)
        chain = self._sign_chain(practice_id, members)
        keyed = [m.key for m in self._attested(chain, members) if m.key is not None]
        rotation = create_group(practice_id, members=keyed)
        key = rotation.group_key
        body = {
            "public_key": b64(key.public_key),
            "wraps": self._wraps(dict(rotation.wraps)),
            **self._statement(chain, key, keyed),
        }
        self._request("POST", self._path(practice_id), body)
        self.last_seen_epoch[key.group_id] = key.epoch
        return key

    def open_group_key(self, practice_id: UUID, *, clinical: bool = False) -> GroupKey:
        """The current group key, if the log vouches for it, its group epoch statement verifies
        and it is not older than the last."""
        return self._open_current(practice_id, signed=True, clinical=clinical)

    def _open_current(self, practice_id: UUID, *, signed: bool, clinical: bool = False) -> GroupKey:
        answer = self._request("GET", self._path(practice_id, clinical=clinical), None)
        group_id = self._group_id(practice_id, clinical)
        binding = self._directory.verify_binding(
            answer["binding"],
            note=answer["signed_checkpoint"],
            subject_kind=SubjectKind.GROUP,
            subject_id=group_id,
            purpose=KeyPurpose.ENCRYPTION,
        )
        last_seen = self.last_seen_epoch.get(group_id, 0)
        if binding.epoch < last_seen:
            raise StaleEpoch("an older group key than one already opened")
        if signed and self._signed_key(practice_id, clinical) != binding:
            raise ProofInvalid("not the group key the signed statements attest")
        wraps = {out["epoch"]: unb64(out["wrap"]) for out in answer["wraps"]}
        if binding.epoch not in wraps:
            raise NotWrappedYet("no wrap of the group's current key for this member yet")
        key = open_group_key(
            wraps[binding.epoch], expected=binding, member=self._me, last_seen_epoch=0
        )
        self.last_seen_epoch[group_id] = key.epoch
        return key

    def older_group_keys(self, practice_id: UUID, *, clinical: bool = False) -> dict[int, GroupKey]:
        """Keys of earlier epochs, to open item keys not re-wrapped yet; never to encrypt to."""
        answer = self._request("GET", self._path(practice_id, clinical=clinical), None)
        group_id = self._group_id(practice_id, clinical)
        keys = {}
        for out in answer["wraps"]:
            wrap = unb64(out["wrap"])
            header = read_group_wrap_header(wrap)
            if header.epoch >= answer["epoch"]:
                continue
            expected = KeyBinding(
                SubjectKind.GROUP,
                group_id,
                KeyPurpose.ENCRYPTION,
                header.epoch,
                header.public_key,
            )
            keys[header.epoch] = open_group_key(
                wrap, expected=expected, member=self._me, last_seen_epoch=0
            )
        return keys

    def wrap_for_pending(self, practice_id: UUID, *, clinical: bool = False) -> int:
        """Seal the current key for members (practitioners, for their group) with a key but no
        wrap of it (e.g. newly invited)."""
        key = self.open_group_key(practice_id, clinical=clinical)
        _epoch, members = self.members(practice_id, clinical=clinical)
        members = self._attested(self._chain(practice_id), members, clinical=clinical)
        wraps = {
            m.account_id: add_member(key, member=m.key)
            for m in members
            if m.key is not None and not m.wrapped
        }
        if wraps:
            body = {"epoch": key.epoch, "wraps": self._wraps(wraps)}
            self._request("POST", self._path(practice_id, "/wraps", clinical=clinical), body)
        return len(wraps)

    # The practitioners' group (notes) ----------------------------------------------------------

    def create_clinical_group(self, practice_id: UUID) -> GroupKey:
        """Epoch 1 of the practitioners' group (a practitioner's device makes it), wrapped for
        every practitioner the signed chain attests with a key, with this practitioner's group
        epoch statement. The practice's chain must exist: an admin signs it."""
        _epoch, members = self.members(practice_id, clinical=True)
        chain = self._directory.membership_chain(practice_id)
        if chain is None:
            raise UnsignedClinicalGroup
        keyed = [m.key for m in self._attested(chain, members, clinical=True) if m.key is not None]
        rotation = create_group(clinical_group_id(practice_id), members=keyed)
        key = rotation.group_key
        body = {
            "public_key": b64(key.public_key),
            "wraps": self._wraps(dict(rotation.wraps)),
            **self._statement(chain, key, keyed),
        }
        self._request("POST", self._path(practice_id, clinical=True), body)
        self.last_seen_epoch[key.group_id] = key.epoch
        return key

    def rotate_clinical(self, practice_id: UUID) -> GroupKey:
        """The practitioners' group's next epoch, wrapped for exactly the attested practitioners
        (after a practitioner left or changed role: the server marks it rotation-due)."""
        members = self.members(practice_id, clinical=True)[1]
        previous = self.open_group_key(practice_id, clinical=True)
        return self._rotate(practice_id, members, previous, self._chain(practice_id), clinical=True)

    def rotate(self, practice_id: UUID) -> GroupKey:
        """The next epoch, wrapped for exactly the current attested members. A practice keyed
        before signed memberships (no chain at all) is re-keyed this way: its current key is
        opened on its log proof alone, then the chain is signed first (docs/operations.md).
        Once a chain exists, an epoch without its statement is refused, never followed."""
        members = self.members(practice_id)[1]
        if self._directory.membership_chain(practice_id) is None:
            previous = self._open_current(practice_id, signed=False)
        else:
            previous = self.open_group_key(practice_id)
        return self._rotate(practice_id, members, previous, self._sign_chain(practice_id, members))

    def _rotate(
        self,
        practice_id: UUID,
        members: list[Member],
        previous: GroupKey,
        chain: MembershipChain,
        *,
        clinical: bool = False,
    ) -> GroupKey:
        keyed = [
            m.key for m in self._attested(chain, members, clinical=clinical) if m.key is not None
        ]
        rotation = rotate_group_key(previous, members=keyed)
        key = rotation.group_key
        body = {
            "epoch": key.epoch,
            "public_key": b64(key.public_key),
            "wraps": self._wraps(dict(rotation.wraps)),
            **self._statement(chain, key, keyed),
        }
        self._request("POST", self._path(practice_id, "/rotations", clinical=clinical), body)
        self.last_seen_epoch[key.group_id] = key.epoch
        return key

    def remove_member(self, practice_id: UUID, account_id: UUID) -> GroupKey:
        """Remove a member (admins) with a signed removal statement, then rotate so that they
        hold no key of later items.

        The rotation wraps for the member list read once, after the removal, and only if the
        removed account is neither attested nor listed: a server that quietly put them back would
        otherwise get the new key wrapped for them (:class:`RemovalIgnored`, nothing rotated)."""
        chain = self._chain(practice_id)
        self._append(practice_id, chain, [(account_id, Role.REMOVED)])
        after = self._chain(practice_id)
        if account_id in after.members():
            raise RemovalIgnored("the signed removal is not in the chain")
        _epoch, members = self.members(practice_id)
        if any(member.account_id == account_id for member in members):
            raise RemovalIgnored("the removed account is still listed as a member")
        return self._rotate(practice_id, members, self.open_group_key(practice_id), after)

    def practice_fingerprint(self, practice_id: UUID) -> str:
        """The group key's fingerprint, from its proven binding, to compare in person."""
        return fingerprint([self._directory.practice_key(practice_id)])

    def user_fingerprint(self, user_id: UUID) -> str:
        # Shown to compare in person, so also for keys reset and not yet confirmed.
        return self._directory.verified_chain(user_id).fingerprint
