"""Practice key groups, read: a member's view of the group (epoch, binding, own wraps), the members
with their keys for a client about to wrap, and what each epoch's signed statement covers."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.orm import Session

from colloque.authorization.policy import PracticeTarget, require
from colloque.crypto.statements import Role, parse_member_entries
from colloque.crypto.transparency import KeyPurpose, SubjectKind
from colloque.keydirectory.interfaces import LogSigner
from colloque.keydirectory.services import (
    Proven,
    current_encryption_keys,
    proven_current,
    signed_checkpoint,
    tree_size,
)
from colloque.practicekeys.groups import PRACTICE, KeyGroup
from colloque.practicekeys.memberships import ROLE_NAMES
from colloque.practicekeys.models import PracticeKeyEpoch, PracticeKeyWrap
from colloque.practicekeys.services import current_epoch, current_row, wrapped_members
from colloque.principal import Principal
from colloque.scheduling.models import PracticeMember


@dataclass(frozen=True)
class GroupState:
    epoch: int
    rotation_due: bool
    binding: Proven
    #: The caller's wraps, newest epoch first (older ones open items not re-wrapped yet).
    wraps: list[PracticeKeyWrap]
    #: The checkpoint the binding's proof is against.
    signed_checkpoint: str


def group_state(
    session: Session,
    *,
    principal: Principal,
    practice_id: UUID,
    log: LogSigner,
    group: KeyGroup = PRACTICE,
) -> GroupState:
    """For a member: the current epoch, its directory binding with proof, and my wraps."""
    require(principal, group.view, PracticeTarget(practice_id), what="practice")
    current = current_row(session, practice_id, group)
    (proven,) = proven_current(
        session, SubjectKind.GROUP, [group.group_id(practice_id)], [KeyPurpose.ENCRYPTION]
    )
    wraps = session.scalars(
        select(PracticeKeyWrap)
        .where(
            PracticeKeyWrap.practice_id == practice_id,
            PracticeKeyWrap.clinical == group.clinical,
            PracticeKeyWrap.account_id == principal.account_id,
        )
        .order_by(PracticeKeyWrap.epoch.desc())
    ).all()
    note = signed_checkpoint(session, size=proven.tree_size, log=log)
    return GroupState(current.epoch, current.rotation_due, proven, list(wraps), note)


@dataclass(frozen=True)
class MemberKey:
    account_id: UUID
    role: str
    #: The member's current encryption key, with proof; ``None`` for an account without keys.
    key: Proven | None
    #: Whether the member has a wrap of the current epoch's key (always False without a group).
    wrapped: bool


@dataclass(frozen=True)
class Members:
    epoch: int | None
    members: list[MemberKey]
    #: The checkpoint the keys' proofs are against.
    signed_checkpoint: str


def list_members(
    session: Session,
    *,
    principal: Principal,
    practice_id: UUID,
    log: LogSigner,
    group: KeyGroup = PRACTICE,
) -> Members:
    """The current epoch and every member of the group's roles (every member; practitioners, for
    their group) with their encryption key (to check against the directory before wrapping) and
    whether they hold the current key."""
    require(principal, group.view, PracticeTarget(practice_id), what="practice")
    size = tree_size(session)
    query = select(PracticeMember.account_id, PracticeMember.role).where(
        PracticeMember.practice_id == practice_id
    )
    if group.clinical:
        query = query.where(PracticeMember.role == ROLE_NAMES[Role.PRACTITIONER])
    members = session.execute(query.order_by(PracticeMember.account_id)).all()
    keys = current_encryption_keys(session, user_ids=[m.account_id for m in members], size=size)
    epoch = current_epoch(session, practice_id=practice_id, group=group)
    wrapped = wrapped_members(session, practice_id, group, epoch) if epoch is not None else set()
    return Members(
        epoch,
        [
            MemberKey(m.account_id, m.role, keys.get(m.account_id), m.account_id in wrapped)
            for m in members
        ],
        signed_checkpoint(session, size=size, log=log),
    )


def epoch_members(
    session: Session, *, practice_id: UUID, group: KeyGroup = PRACTICE
) -> dict[int, list[tuple[UUID, int]]]:
    """Per epoch made in a practice that signs its memberships, the (member, encryption epoch)
    its key was wrapped for: what the epoch's statement digest covers, for clients to check."""
    rows = session.execute(
        select(PracticeKeyEpoch.epoch, PracticeKeyEpoch.members).where(
            PracticeKeyEpoch.practice_id == practice_id,
            PracticeKeyEpoch.clinical == group.clinical,
            PracticeKeyEpoch.members.is_not(None),
        )
    )
    return {epoch: parse_member_entries(members or b"") for epoch, members in rows}
