"""Who may see whose keys, and the answer they get: a subject's current bindings, proven, with
the checkpoint, the fingerprint and every leaf of the subject (the key directory's read for
clients; ``services`` keeps the log itself)."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from colloque.authorization.policy import Action, PersonTarget, PracticeTarget, require
from colloque.crypto import transparency
from colloque.crypto.groups import clinical_group_id
from colloque.crypto.statements import GROUP_EPOCH_TYPE, MEMBERSHIP_TYPE
from colloque.crypto.transparency import KeyPurpose, SubjectKind
from colloque.errors import NotFound
from colloque.keydirectory.interfaces import LogSigner
from colloque.keydirectory.models import KeyDirectoryLeaf
from colloque.keydirectory.services import (
    Proven,
    ProvenLeaf,
    proven_current,
    signed_checkpoint,
    subject_log,
)
from colloque.patients.models import Patient, PracticePatient
from colloque.principal import MEMBER_ROLES, Principal
from colloque.scheduling.models import Practice, PracticeMember


@dataclass(frozen=True)
class SubjectKeys:
    bindings: list[Proven]
    signed_checkpoint: str
    fingerprint: str
    #: Every leaf of the subject, proven against the same checkpoint.
    chain: list[ProvenLeaf]


def _deals_with(session: Session, principal: Principal, user_id: UUID) -> bool:
    """Whether the user is a co-member, holds a patient registered where the principal works,
    works where the principal's patient is registered, or is an admin of a practice with a key
    group (whose signed statements anyone about to book there verifies): the facts the policy
    decides on."""
    viewer = principal.account_id
    mine = [
        practice_id
        for practice_id, membership in principal.memberships.items()
        if membership.role in MEMBER_ROLES
    ]
    co_member = exists().where(
        PracticeMember.account_id == user_id, PracticeMember.practice_id.in_(mine)
    )
    their_patient_here = exists().where(
        Patient.holder_account_id == user_id,
        PracticePatient.patient_id == Patient.patient_id,
        PracticePatient.practice_id.in_(mine),
    )
    my_patient_there = exists().where(
        PracticeMember.account_id == user_id,
        PracticePatient.practice_id == PracticeMember.practice_id,
        Patient.patient_id == PracticePatient.patient_id,
        Patient.holder_account_id == viewer,
    )
    # Whoever seals for a practice verifies its membership chain and group epoch statements, so
    # it needs their signers' keys, a first-time patient included: a signer's keys are as public
    # as the practice's own (the statements, signer ids in them, already are).
    signed_for_a_practice = exists().where(
        KeyDirectoryLeaf.subject_kind == SubjectKind.GROUP.value,
        (
            (KeyDirectoryLeaf.purpose == MEMBERSHIP_TYPE)
            & (func.substr(KeyDirectoryLeaf.leaf, _MEMBERSHIP_SIGNER + 1, 16) == user_id.bytes)
        )
        | (
            (KeyDirectoryLeaf.purpose == GROUP_EPOCH_TYPE)
            & (func.substr(KeyDirectoryLeaf.leaf, _GROUP_EPOCH_SIGNER + 1, 16) == user_id.bytes)
        ),
    )
    return bool(
        session.scalar(
            select(co_member | their_patient_here | my_patient_there | signed_for_a_practice)
        )
    )


#: Where a statement's signer id starts (docs/crypto.md 5.12).
_MEMBERSHIP_SIGNER = 71
_GROUP_EPOCH_SIGNER = 90


def subject_keys(
    session: Session,
    *,
    principal: Principal,
    subject_kind: SubjectKind,
    subject_id: UUID,
    log: LogSigner,
    size: int | None = None,
    signed_note: str | None = None,
) -> SubjectKeys:
    """A subject's current bindings with their proofs, the checkpoint and the fingerprint.

    A practice's keys are for any signed-in account; a user's, for those who deal with them
    (the policy's ``PERSON_KEYS_VIEW``). Otherwise, and when there are none, the same 404; a
    group that is not a practice's own (its practitioners' group: :func:`clinical_keys`) too.
    ``size`` and ``signed_note``: prove against that checkpoint (the witnessed one) instead of
    the latest.
    """
    what = "user" if subject_kind is SubjectKind.USER else "practice"
    if subject_kind is SubjectKind.USER:
        target = PersonTarget(
            account_id=subject_id,
            deals_with_principal=principal.account_id not in (None, subject_id)
            and _deals_with(session, principal, subject_id),
        )
        require(principal, Action.PERSON_KEYS_VIEW, target, what=f"{what} keys")
    elif session.get(Practice, subject_id) is None:
        raise NotFound(f"{what} keys not found")
    return _proven(session, subject_kind, subject_id, log, size, signed_note, what)


def clinical_keys(
    session: Session,
    *,
    principal: Principal,
    practice_id: UUID,
    log: LogSigner,
    size: int | None = None,
    signed_note: str | None = None,
) -> SubjectKeys:
    """A practice's practitioners' group, as :func:`subject_keys` answers for a subject: for the
    practice's staff (who verify what notes are sealed to); 404 for anyone else and when absent."""
    what = "practitioners' group"
    require(principal, Action.PRACTICE_KEYS_VIEW, PracticeTarget(practice_id), what=f"{what} keys")
    return _proven(
        session, SubjectKind.GROUP, clinical_group_id(practice_id), log, size, signed_note, what
    )


def _proven(
    session: Session,
    subject_kind: SubjectKind,
    subject_id: UUID,
    log: LogSigner,
    size: int | None,
    signed_note: str | None,
    what: str,
) -> SubjectKeys:
    proven = proven_current(session, subject_kind, [subject_id], list(KeyPurpose), size=size)
    if not proven:
        raise NotFound(f"{what} keys not found")
    size = proven[0].tree_size
    return SubjectKeys(
        bindings=proven,
        signed_checkpoint=signed_note
        if signed_note is not None
        else signed_checkpoint(session, size=size, log=log),
        fingerprint=transparency.fingerprint(p.binding for p in proven),
        chain=subject_log(session, subject_kind, subject_id, size=size),
    )
