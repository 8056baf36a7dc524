"""HTTP routes of the key directory: the log head, consistency proofs, a subject's keys."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query

from colloque.accounts.services import display_name
from colloque.api.deps import DB, AnyPrincipal, CurrentPrincipal, LogDep, WitnessingDep
from colloque.api.schemas import B64, Out
from colloque.crypto.groups import clinical_group_id
from colloque.crypto.transparency import SubjectKind
from colloque.keydirectory import services, subjects
from colloque.practicekeys.groups import CLINICAL, PRACTICE
from colloque.practicekeys.reading import epoch_members

router = APIRouter(prefix="/api/v1/key-directory", tags=["key directory"])
#: Far above any real log; keeps the sizes in the signed 64-bit range the database holds.
MAX_SIZE = 2**62


class LogHeadOut(Out):
    origin: str
    public_key: B64
    tree_size: int
    signed_checkpoint: str


class ConsistencyOut(Out):
    old_size: int
    new_size: int
    proof: list[B64]


class BindingOut(Out):
    purpose: str
    epoch: int
    public_key: B64
    leaf: B64
    leaf_index: int
    tree_size: int
    inclusion_proof: list[B64]

    @classmethod
    def of(cls, proven: services.Proven) -> BindingOut:
        binding = proven.binding
        return cls(
            purpose=binding.purpose.name.lower(),
            epoch=binding.epoch,
            public_key=binding.public_key,
            leaf=binding.to_leaf(),
            leaf_index=proven.leaf_index,
            tree_size=proven.tree_size,
            inclusion_proof=proven.proof,
        )


class LeafOut(Out):
    """A leaf of the log (a key binding or a signed statement, docs/crypto.md 5.12), proven."""

    leaf: B64
    leaf_index: int
    inclusion_proof: list[B64]


class EpochMemberOut(Out):
    account_id: UUID
    encryption_epoch: int


class EpochMembersOut(Out):
    """Who a group epoch was wrapped for (its group epoch statement's digest covers this list)."""

    epoch: int
    members: list[EpochMemberOut]


class SubjectKeysOut(Out):
    subject_kind: str
    subject_id: UUID
    bindings: list[BindingOut]
    signed_checkpoint: str
    fingerprint: str
    #: Every leaf about the subject, in log order, proven against ``signed_checkpoint``: a user's
    #: bindings of every epoch and their endorsements; a group's bindings and statements.
    chain: list[LeafOut]
    #: A practice that signs its memberships: per epoch, the members it was wrapped for.
    epoch_members: list[EpochMembersOut] = []
    #: A user's name as their account states it: the server's word, not signed by the log; shown
    #: beside a fingerprint that changed, so that a person knows whom to compare it with.
    display_name: str | None = None


@router.get(
    "",
    response_model=LogHeadOut,
    summary="The log's origin, key and latest checkpoint",
    description=(
        "Public (a token, when sent, must be valid). The log's origin, public key and latest signed"
        " checkpoint, for clients to pin and verify. With witnesses required"
        " (COLLOQUE_KEY_DIRECTORY_WITNESS_THRESHOLD), the latest checkpoint enough of them"
        " cosigned, their cosignature lines appended to the note."
    ),
)
def head(db: DB, log: LogDep, witnessing: WitnessingDep, _principal: AnyPrincipal) -> LogHeadOut:
    with db.read() as session:
        found = services.log_head(session, log=log)
        if witnessing is not None and witnessing.threshold:
            witnessed = witnessing.witnessed_head(session)
            if witnessed is not None:
                found = services.Head(
                    found.origin, found.public_key, witnessed.tree_size, witnessed.signed_note
                )
    return LogHeadOut(
        origin=found.origin,
        public_key=found.public_key,
        tree_size=found.tree_size,
        signed_checkpoint=found.signed_checkpoint,
    )


@router.get(
    "/consistency",
    response_model=ConsistencyOut,
    summary="Proof that the log at one size extends the log at an older size",
    description=(
        "Public (a token, when sent, must be valid). An RFC 9162 consistency proof between two "
        "sizes the log has had. 422 for sizes it has not had."
    ),
)
def consistency(
    db: DB,
    _principal: AnyPrincipal,
    old_size: Annotated[int, Query(alias="from", ge=0, le=MAX_SIZE)],
    new_size: Annotated[int, Query(alias="to", ge=0, le=MAX_SIZE)],
) -> ConsistencyOut:
    with db.read() as session:
        proof = services.consistency(session, old_size=old_size, new_size=new_size)
    return ConsistencyOut(old_size=old_size, new_size=new_size, proof=proof)


def _keys(
    db: DB,
    log: LogDep,
    witnessing: WitnessingDep,
    principal: CurrentPrincipal,
    kind: SubjectKind,
    subject_id: UUID,
    *,
    clinical: bool = False,
) -> SubjectKeysOut:
    """A subject's keys at the witnessed size; ``clinical``: the practitioners' group of the
    practice ``subject_id``."""
    with db.read() as session:
        witnessed = None
        if witnessing is not None and witnessing.threshold:
            witnessed = witnessing.witnessed_head(session)
        size = None if witnessed is None else witnessed.tree_size
        signed_note = None if witnessed is None else witnessed.signed_note
        if clinical:
            found = subjects.clinical_keys(
                session,
                principal=principal,
                practice_id=subject_id,
                log=log,
                size=size,
                signed_note=signed_note,
            )
        else:
            found = subjects.subject_keys(
                session,
                principal=principal,
                subject_kind=kind,
                subject_id=subject_id,
                log=log,
                size=size,
                signed_note=signed_note,
            )
        members = {}
        if kind is SubjectKind.GROUP:
            group = CLINICAL if clinical else PRACTICE
            members = epoch_members(session, practice_id=subject_id, group=group)
        # Asked only once the policy let this reader see the keys (subject_keys raised otherwise).
        name = display_name(session, account_id=subject_id) if kind is SubjectKind.USER else None
    if clinical:
        subject_kind, subject_id = "practice_clinical", clinical_group_id(subject_id)
    else:
        subject_kind = "user" if kind is SubjectKind.USER else "practice"
    return SubjectKeysOut(
        subject_kind=subject_kind,
        subject_id=subject_id,
        bindings=[BindingOut.of(proven) for proven in found.bindings],
        signed_checkpoint=found.signed_checkpoint,
        fingerprint=found.fingerprint,
        chain=[
            LeafOut(leaf=p.leaf, leaf_index=p.leaf_index, inclusion_proof=p.proof)
            for p in found.chain
        ],
        epoch_members=[
            EpochMembersOut(
                epoch=epoch,
                members=[EpochMemberOut(account_id=a, encryption_epoch=e) for a, e in listed],
            )
            for epoch, listed in sorted(members.items())
        ],
        display_name=name,
    )


@router.get(
    "/users/{account_id}",
    response_model=SubjectKeysOut,
    summary="A user's current public keys, with inclusion proofs and fingerprint",
    description=(
        "Signed-in accounts read the keys of a user they deal with (their own, their practice's "
        "patients or staff), with the whole chain: every epoch's bindings and key endorsements, "
        "each proven against the same checkpoint. 404 otherwise, and when there are none."
    ),
)
def user_keys(
    account_id: UUID,
    db: DB,
    log: LogDep,
    witnessing: WitnessingDep,
    principal: CurrentPrincipal,
) -> SubjectKeysOut:
    return _keys(db, log, witnessing, principal, SubjectKind.USER, account_id)


@router.get(
    "/practices/{practice_id}",
    response_model=SubjectKeysOut,
    summary="A practice group's current public key, with inclusion proof and fingerprint",
    description=(
        "Any signed-in account reads a practice group's current key, with every leaf of the group "
        "in the log, proven against the same checkpoint. 404 when the practice has no key group."
    ),
)
def practice_keys(
    practice_id: UUID,
    db: DB,
    log: LogDep,
    witnessing: WitnessingDep,
    principal: CurrentPrincipal,
) -> SubjectKeysOut:
    return _keys(db, log, witnessing, principal, SubjectKind.GROUP, practice_id)


@router.get(
    "/practices/{practice_id}/clinical",
    response_model=SubjectKeysOut,
    summary="A practice's practitioners' group key (notes), with inclusion proofs and fingerprint",
    description=(
        "The practice's staff read the current key of its practitioners' group (what notes are "
        "sealed to; its id is derived from the practice's), with every leaf of the group in the "
        "log and the members of each epoch, proven against the same checkpoint. 404 for anyone "
        "else, and before a practitioner made the group."
    ),
)
def practice_clinical_keys(
    practice_id: UUID,
    db: DB,
    log: LogDep,
    witnessing: WitnessingDep,
    principal: CurrentPrincipal,
) -> SubjectKeysOut:
    return _keys(db, log, witnessing, principal, SubjectKind.GROUP, practice_id, clinical=True)
