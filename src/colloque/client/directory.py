"""The client's view of the key directory: trust no key the log does not vouch for.

:class:`KeyDirectory` pins the log's origin and public key (from configuration, not from the
server). It keeps the largest checkpoint it has verified; every newer checkpoint must carry the
log's signature and be consistent with it (an RFC 9162 consistency proof fetched from the
server), and every key binding must be included in a verified checkpoint before it is used.
A server that substitutes a key, rewrites the log or shows an older view is caught here
(docs/crypto.md, sections 5.5 and 5.8).

The largest verified checkpoint is kept in the client state (section "checkpoints", by origin,
with the log key it was verified with), so a new process starts from it rather than trusting the
first signed log it is shown. With witnesses pinned too, every checkpoint must carry ``threshold``
cosignatures from them (docs/crypto.md, section 5.13).

A user's keys come with their whole chain: every epoch's bindings and the key endorsement of each
epoch after the first (docs/crypto.md, section 5.12). An epoch without one is refused. A reset
epoch is signed only by its own new key, which a hostile server could make as well, so it is used
only once a person compared its fingerprint (:class:`KeysChanged`, then ``confirm_keys``) or when
it is this user's own (kept in the state's "own_keys" by the device that holds the keys).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from uuid import UUID

from colloque.client.encoding import b64, unb64
from colloque.client.http import ApiError
from colloque.client.pins import epoch_fingerprint, same_fingerprint
from colloque.client.state import MemoryState
from colloque.clock import Clock, SystemClock
from colloque.crypto.errors import CryptoError, ProofInvalid, StaleEpoch
from colloque.crypto.groups import clinical_group_id
from colloque.crypto.statements import (
    ENDORSEMENT_TYPE,
    GROUP_EPOCH_TYPE,
    MEMBERSHIP_TYPE,
    ChainEpoch,
    EndorsementKind,
    GroupEpochStatement,
    KeyEndorsement,
    MembershipChain,
    MembershipStatement,
    SigningKeys,
    verify_clinical_epoch,
    verify_group_epoch,
    verify_key_chain,
    verify_membership_chain,
)
from colloque.crypto.transparency import (
    Checkpoint,
    KeyBinding,
    KeyPurpose,
    SubjectKind,
    fingerprint,
    leaf_hash,
    verify_checkpoint,
    verify_checkpoint_consistency,
    verify_inclusion,
    verify_key_binding,
)
from colloque.crypto.witness import verify_witnessed_checkpoint

Json = dict[str, Any]
#: GET a path of the API and return its JSON body.
Fetch = Callable[[str], Any]


@dataclass(frozen=True)
class SubjectKeys:
    """A subject's current keys, each proven in the log, and the fingerprint computed here;
    for a user, every epoch of the verified chain too (the last one is ``bindings``)."""

    bindings: dict[KeyPurpose, KeyBinding]
    fingerprint: str
    chain: tuple[ChainEpoch, ...] = ()


class KeysChanged(CryptoError):
    """A user's keys were reset (signed only by the new key): have a person compare
    ``fingerprint`` with the one the user sees, then ``confirm_keys(user_id, fingerprint)``."""

    def __init__(self, user_id: UUID, fingerprint: str) -> None:
        super().__init__(f"the keys of {user_id} were reset; compare fingerprints: {fingerprint}")
        self.user_id = user_id
        self.fingerprint = fingerprint


class UnsignedPractice(ProofInvalid):
    """A practice's group key with no signed membership chain, or no group epoch statement for
    its current epoch: made before signed memberships, or by the operator. Nothing is sealed to
    it or opened with it until an admin re-keys the practice (docs/operations.md)."""

    def __init__(self) -> None:
        super().__init__(
            "this practice's group key is not signed by its admins (no membership chain or no "
            "statement for its epoch): an admin must re-key it (docs/operations.md)"
        )


class UnsignedClinicalGroup(ProofInvalid):
    """A practitioners' group key with no statement of a practitioner for its epoch, or with no
    signed membership chain: made by the operator. Nothing is sealed to it or opened with it."""

    def __init__(self) -> None:
        super().__init__(
            "this practice's practitioners' key is not signed by one of its practitioners"
        )


def _of_type(leaves: list[bytes], kind: int) -> list[bytes]:
    return [leaf for leaf in leaves if leaf[1:2] == bytes((kind,))]


#: The client state's section of verified checkpoints, by log origin.
CHECKPOINTS = "checkpoints"


class KeyDirectory:
    def __init__(
        self,
        fetch: Fetch,
        *,
        origin: str,
        log_public_key: bytes,
        state: MemoryState | None = None,
        witnesses: Mapping[str, bytes] | None = None,
        threshold: int = 0,
        witness_max_age: timedelta | None = None,
        clock: Clock | None = None,
    ) -> None:
        self._fetch = fetch
        self.origin = origin
        self.log_public_key = log_public_key
        self.witnesses = dict(witnesses or {})
        self.threshold = threshold
        #: Cosignatures older than this are not counted: a rolled-back checkpoint only has old ones.
        self.witness_max_age = witness_max_age
        self._clock = clock or SystemClock()
        self.state = state if state is not None else MemoryState()
        #: The largest checkpoint verified so far (``None`` before the first, in any process
        #: that shared this state).
        self.checkpoint: Checkpoint | None = self._remembered()

    def _remembered(self) -> Checkpoint | None:
        saved = self.state.get(CHECKPOINTS, self.origin)
        if saved is None:
            return None
        if unb64(saved["log_public_key"]) != self.log_public_key:
            # Another key for a log this device already trusts: a new log, or an attacker's.
            raise ProofInvalid("the client state has this log under another key")
        # Witness cosignatures were checked when it was saved; the log's signature still binds it.
        return verify_checkpoint(
            saved["note"], origin=self.origin, log_public_key=self.log_public_key
        )

    def _not_before(self) -> int:
        if self.witness_max_age is None:
            return 0
        return max(0, math.floor((self._clock.now() - self.witness_max_age).timestamp()))

    def accept_checkpoint(self, note: str) -> Checkpoint:
        """Verify ``note``'s signatures (the log's, and the witnesses' when pinned) and its
        consistency with the last checkpoint seen; remember it if it is larger."""
        new = verify_witnessed_checkpoint(
            note,
            origin=self.origin,
            log_public_key=self.log_public_key,
            witnesses=self.witnesses,
            threshold=self.threshold,
            not_before=self._not_before(),
        )
        old = self.checkpoint
        if old is not None:
            proof: list[bytes] = []
            if old.tree_size < new.tree_size:
                answer = self._fetch(
                    f"/api/v1/key-directory/consistency?from={old.tree_size}&to={new.tree_size}"
                )
                proof = [unb64(h) for h in answer["proof"]]
            # An older checkpoint is refused here too: a log never shrinks.
            verify_checkpoint_consistency(old, new, proof)
        if old is None or new.tree_size > old.tree_size:
            self.state.put(
                CHECKPOINTS,
                self.origin,
                {"log_public_key": b64(self.log_public_key), "note": note},
            )
        self.checkpoint = new
        return new

    def refresh(self) -> Checkpoint:
        """Fetch the log head; its origin and key must be the pinned ones."""
        head = self._fetch("/api/v1/key-directory")
        if head["origin"] != self.origin or unb64(head["public_key"]) != self.log_public_key:
            raise ProofInvalid("the server names another log")
        return self.accept_checkpoint(head["signed_checkpoint"])

    def verify_binding(
        self,
        out: Json,
        *,
        note: str,
        subject_kind: SubjectKind,
        subject_id: UUID,
        purpose: KeyPurpose | None = None,
    ) -> KeyBinding:
        """A binding as the server sent it (``BindingOut``), once proven against ``note``.

        The leaf itself is what is proven; the binding must be of the subject (and purpose)
        asked for, so a proven key of somebody else is refused too.
        """
        checkpoint = self.accept_checkpoint(note)
        binding = KeyBinding.from_leaf(unb64(out["leaf"]))
        if (binding.subject_kind, binding.subject_id) != (subject_kind, subject_id) or (
            purpose is not None and binding.purpose is not purpose
        ):
            raise ProofInvalid("a key of another subject")
        if out["tree_size"] != checkpoint.tree_size:
            raise ProofInvalid("the proof is for another checkpoint")
        verify_key_binding(
            binding,
            leaf_index=out["leaf_index"],
            proof=[unb64(h) for h in out["inclusion_proof"]],
            checkpoint=checkpoint,
        )
        return binding

    def _subject(self, path: str, kind: SubjectKind, subject_id: UUID) -> tuple[SubjectKeys, Json]:
        answer = self._fetch(path)
        bindings = {}
        for out in answer["bindings"]:
            binding = self.verify_binding(
                out, note=answer["signed_checkpoint"], subject_kind=kind, subject_id=subject_id
            )
            bindings[binding.purpose] = binding
        return SubjectKeys(bindings, fingerprint(bindings.values())), answer

    def _proven_leaves(self, answer: Json) -> list[bytes]:
        """The subject's chain leaves, each proven against the answer's checkpoint (which
        :meth:`_subject` already accepted)."""
        checkpoint = self.accept_checkpoint(answer["signed_checkpoint"])
        leaves = []
        for out in answer["chain"]:
            leaf = unb64(out["leaf"])
            verify_inclusion(
                leaf_hash=leaf_hash(leaf),
                index=out["leaf_index"],
                tree_size=checkpoint.tree_size,
                proof=[unb64(h) for h in out["inclusion_proof"]],
                root=checkpoint.root_hash,
            )
            leaves.append(leaf)
        return leaves

    def verified_chain(self, user_id: UUID) -> SubjectKeys:
        """A user's keys and whole chain, every link verified, without the reset confirmation:
        what the owner's own monitoring reads."""
        keys, answer = self._subject(
            f"/api/v1/key-directory/users/{user_id}", SubjectKind.USER, user_id
        )
        bindings: list[KeyBinding] = []
        endorsements: list[KeyEndorsement] = []
        for leaf in self._proven_leaves(answer):
            if leaf[1:2] == bytes((ENDORSEMENT_TYPE,)):
                endorsements.append(KeyEndorsement.from_leaf(leaf))
            else:
                bindings.append(KeyBinding.from_leaf(leaf))
        chain = verify_key_chain(user_id, bindings, endorsements)
        if not chain or (chain[-1].encryption, chain[-1].signing) != (
            keys.bindings.get(KeyPurpose.ENCRYPTION),
            keys.bindings.get(KeyPurpose.SIGNING),
        ):
            raise ProofInvalid("the current keys are not the end of their chain")
        return SubjectKeys(keys.bindings, keys.fingerprint, tuple(chain))

    def user_keys(self, user_id: UUID) -> SubjectKeys:
        """A user's encryption and signing keys, proven, every epoch endorsed; their fingerprint,
        computed here. Raises :class:`KeysChanged` for keys reset since, unless confirmed (or
        this user's own)."""
        keys = self.verified_chain(user_id)
        resets = [e for e in keys.chain if e.kind is EndorsementKind.RESET]
        if resets:
            since = keys.chain[keys.chain.index(resets[-1]) :]
            accepted = {epoch_fingerprint(e) for e in since}
            own = self.state.get("own_keys", str(user_id)) or {}
            confirmed = [self.state.get("confirmed_keys", str(user_id)), *own.values()]
            if not any(
                same_fingerprint(shown, known)
                for shown in accepted
                for known in confirmed
                if isinstance(known, str)
            ):
                raise KeysChanged(user_id, keys.fingerprint)
        return keys

    def signing_keys(self, signers: set[tuple[UUID, int]]) -> SigningKeys:
        """Each (account, epoch)'s signing key, from the account's verified (and, after a reset,
        confirmed) chain."""
        keys = {}
        for account_id, epoch in signers:
            chain = self.user_keys(account_id).chain
            if not 1 <= epoch <= len(chain):
                raise ProofInvalid("no key of the signer's epoch")
            keys[(account_id, epoch)] = chain[epoch - 1].signing
        return keys

    def membership_chain(self, practice_id: UUID) -> MembershipChain | None:
        """The practice's signed membership chain, every link verified (None before its genesis).

        The state keeps the sequence and head hash of the chain verified last: a shorter chain, or
        one that does not pass through that head (a rewritten history of any length), is refused,
        so a server cannot take a practice back to unsigned memberships, to an older state, or to
        another chain once a client saw one."""
        answer = self._fetch(f"/api/v1/practices/{practice_id}/key-group/memberships")
        return self._verified_memberships(practice_id, self._proven_leaves(answer))

    def practice_members(self, practice_id: UUID) -> MembershipChain | None:
        """The same verified chain, as served with the practice's keys: readable by whoever
        seals for the practice (its patients too, who may not read ``membership_chain``'s
        endpoint). Raises the server's 404 when the practice has no key group."""
        answer = self._fetch(f"/api/v1/key-directory/practices/{practice_id}")
        return self._verified_memberships(practice_id, self._proven_leaves(answer))

    def _verified_memberships(
        self, practice_id: UUID, leaves: list[bytes]
    ) -> MembershipChain | None:
        links = [
            MembershipStatement.from_leaf(leaf)
            for leaf in leaves
            if leaf[1:2] == bytes((MEMBERSHIP_TYPE,))
        ]
        saved = self.state.get("membership_sequences", str(practice_id)) or 0
        # A state from before heads were kept holds the sequence alone.
        seen, head = (saved, None) if isinstance(saved, int) else (saved["sequence"], saved["head"])
        if len(links) < seen:
            raise ProofInvalid("the membership chain went back")
        # Same length or longer is not enough: a rewritten chain must still pass the head seen.
        if head is not None and b64(links[seen - 1].leaf_hash()) != head:
            raise ProofInvalid("the membership chain does not extend the one seen before")
        if not links:
            return None
        signers = {(link.signer_id, link.signer_epoch) for link in links}
        chain = verify_membership_chain(practice_id, links, signing_keys=self.signing_keys(signers))
        self.state.put(
            "membership_sequences",
            str(practice_id),
            {"sequence": chain.sequence, "head": b64(chain.head)},
        )
        return chain

    def practice_key(self, practice_id: UUID) -> KeyBinding:
        """A practice group's current encryption key, proven; never of an epoch older than one
        this client verified. The epoch must come with its group epoch statement: signed by an
        admin of the practice's verified membership chain at the stated sequence, for this key,
        wrapped for attested members only (docs/crypto.md 5.12); else :class:`UnsignedPractice`."""
        found = self._group_binding(f"/api/v1/key-directory/practices/{practice_id}", practice_id)
        return self._verified_practice(practice_id, *found)

    def practice_key_if_any(self, practice_id: UUID) -> KeyBinding | None:
        """:meth:`practice_key`, or None when the server says the group does not exist (its 404
        for the group itself). A 404 met later, such as a signer's keys withheld, is raised: the
        group exists and does not verify."""
        try:
            found = self._group_binding(
                f"/api/v1/key-directory/practices/{practice_id}", practice_id
            )
        except ApiError as error:
            if error.status == 404:
                return None
            raise
        return self._verified_practice(practice_id, *found)

    def _verified_practice(
        self, practice_id: UUID, binding: KeyBinding, answer: Json, leaves: list[bytes]
    ) -> KeyBinding:
        chain = self._verified_memberships(practice_id, leaves)
        found = self._epoch_statement(binding, answer, leaves)
        if chain is None or found is None:
            raise UnsignedPractice
        statement, members = found
        verify_group_epoch(
            statement,
            group_key=binding,
            chain=chain,
            members=members,
            signing_keys=self.signing_keys({(statement.signer_id, statement.signer_epoch)}),
        )
        self.state.put("group_epochs", str(practice_id), binding.epoch)
        return binding

    def clinical_key(self, practice_id: UUID) -> KeyBinding:
        """A practice's practitioners' group key (what notes are sealed to), proven; never of an
        epoch older than one this client verified for that group. Its group epoch statement must
        be signed by a practitioner of the practice's verified membership chain and list
        practitioners only (``verify_clinical_epoch``); else :class:`UnsignedClinicalGroup`.
        For the practice's staff (the server answers 404 to anyone else, and before the group
        exists)."""
        group_id = clinical_group_id(practice_id)
        found = self._group_binding(
            f"/api/v1/key-directory/practices/{practice_id}/clinical", group_id
        )
        return self._verified_clinical(practice_id, *found)

    def clinical_key_if_any(self, practice_id: UUID) -> KeyBinding | None:
        """:meth:`clinical_key`, or None when the server says the group does not exist (its 404
        for the group itself). A 404 met later, such as a signer's keys withheld, is raised: the
        group exists and does not verify."""
        group_id = clinical_group_id(practice_id)
        try:
            found = self._group_binding(
                f"/api/v1/key-directory/practices/{practice_id}/clinical", group_id
            )
        except ApiError as error:
            if error.status == 404:
                return None
            raise
        return self._verified_clinical(practice_id, *found)

    def _verified_clinical(
        self, practice_id: UUID, binding: KeyBinding, answer: Json, leaves: list[bytes]
    ) -> KeyBinding:
        group_id = clinical_group_id(practice_id)
        chain = self.membership_chain(practice_id)
        found = self._epoch_statement(binding, answer, leaves)
        if chain is None or found is None:
            raise UnsignedClinicalGroup
        statement, members = found
        verify_clinical_epoch(
            statement,
            group_key=binding,
            chain=chain,
            members=members,
            signing_keys=self.signing_keys({(statement.signer_id, statement.signer_epoch)}),
        )
        self.state.put("group_epochs", str(group_id), binding.epoch)
        return binding

    def _group_binding(self, path: str, group_id: UUID) -> tuple[KeyBinding, Json, list[bytes]]:
        """A group's proven encryption key, not older than the one verified last for this group
        id, with the answer and its proven leaves."""
        keys, answer = self._subject(path, SubjectKind.GROUP, group_id)
        binding = keys.bindings[KeyPurpose.ENCRYPTION]
        seen = self.state.get("group_epochs", str(group_id)) or 0
        if binding.epoch < seen:
            raise StaleEpoch("an older group key than one already verified")
        return binding, answer, self._proven_leaves(answer)

    @staticmethod
    def _epoch_statement(
        binding: KeyBinding, answer: Json, leaves: list[bytes]
    ) -> tuple[GroupEpochStatement, list[tuple[UUID, int]]] | None:
        """The group epoch statement of the binding's epoch among the proven leaves, with the
        members the server says it was wrapped for (the statement's digest then checks them)."""
        statement = next(
            (
                s
                for s in map(GroupEpochStatement.from_leaf, _of_type(leaves, GROUP_EPOCH_TYPE))
                if s.epoch == binding.epoch
            ),
            None,
        )
        listed = {out["epoch"]: out["members"] for out in answer.get("epoch_members", [])}
        if statement is None or binding.epoch not in listed:
            return None
        members = [(UUID(m["account_id"]), m["encryption_epoch"]) for m in listed[binding.epoch]]
        return statement, members
