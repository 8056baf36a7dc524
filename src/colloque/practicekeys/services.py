"""Practice key groups on the server: store what members' clients make, check its clear headers.

The server never sees a group private key. A staff member's client makes the group (epoch 1) or
a rotation (epoch + 1) and sends the public key with one wrap per member; the server checks each
wrap's clear header (group, epoch, public key, member), that the wraps cover exactly the members
who have an encryption key in the directory, and publishes the group's binding in the key
directory in the same transaction. Removing a member marks the group rotation-due; the next
rotation wraps the new key for the remaining members only (docs/crypto.md, section 5.4).

Every use case takes the group (``groups.PRACTICE``, the default, or ``groups.CLINICAL``, the
practitioners' group that notes are sealed to): same checks, formats and tables, its own rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from colloque.audit.services import AuditAction, record
from colloque.authorization.policy import Action, PracticeTarget, require
from colloque.crypto.errors import CryptoError
from colloque.crypto.groups import FIRST_EPOCH, read_group_wrap_header
from colloque.crypto.statements import MembershipStatement
from colloque.crypto.transparency import KeyBinding, KeyPurpose, SubjectKind
from colloque.errors import Conflict, InvalidInput, NotFound
from colloque.keydirectory.interfaces import LogSigner
from colloque.keydirectory.models import KeyDirectoryLeaf
from colloque.keydirectory.services import (
    publish_bindings,
)
from colloque.practicekeys.groups import PRACTICE, KeyGroup
from colloque.practicekeys.memberships import (
    attested,
    check_epoch_statement,
    remove_membership,
    signed_chain,
    stored_chain,
)
from colloque.practicekeys.models import PracticeKeyEpoch, PracticeKeyWrap
from colloque.principal import Principal
from colloque.scheduling.models import PracticeMember


@dataclass(frozen=True)
class MemberWrap:
    """A wrap of the group key sent by a member's client for ``account_id``."""

    account_id: UUID
    wrap: bytes


# For other areas -------------------------------------------------------------------------------


@dataclass(frozen=True)
class CurrentEpoch:
    epoch: int
    rotation_due: bool


def current_state(
    session: Session, *, practice_id: UUID, group: KeyGroup = PRACTICE
) -> CurrentEpoch | None:
    """The current epoch and whether it is rotation-due, in one query (None: no group yet)."""
    row = session.execute(
        select(PracticeKeyEpoch.epoch, PracticeKeyEpoch.rotation_due)
        .where(
            PracticeKeyEpoch.practice_id == practice_id,
            PracticeKeyEpoch.clinical == group.clinical,
        )
        .order_by(PracticeKeyEpoch.epoch.desc())
        .limit(1)
    ).first()
    return None if row is None else CurrentEpoch(row.epoch, bool(row.rotation_due))


def current_epoch(session: Session, *, practice_id: UUID, group: KeyGroup = PRACTICE) -> int | None:
    """The group's current epoch (``None`` before the group is made)."""
    state = current_state(session, practice_id=practice_id, group=group)
    return None if state is None else state.epoch


def rotation_due(session: Session, *, practice_id: UUID, group: KeyGroup = PRACTICE) -> bool:
    """True once a member was removed and no rotation has followed yet."""
    state = current_state(session, practice_id=practice_id, group=group)
    return state is not None and state.rotation_due


# Checks ------------------------------------------------------------------------------------------


def current_row(
    session: Session, practice_id: UUID, group: KeyGroup, *, lock: bool = False
) -> PracticeKeyEpoch:
    query = (
        select(PracticeKeyEpoch)
        .where(
            PracticeKeyEpoch.practice_id == practice_id,
            PracticeKeyEpoch.clinical == group.clinical,
        )
        .order_by(PracticeKeyEpoch.epoch.desc())
        .limit(1)
    )
    row = session.scalars(query.with_for_update() if lock else query).one_or_none()
    if row is None:
        raise NotFound(group.not_found)
    return row


def _keyed_members(
    session: Session, practice_id: UUID, chain: Sequence[MembershipStatement], group: KeyGroup
) -> set[UUID]:
    """Members who have an encryption key in the directory and whom the practice's signed chain
    attests in one of the group's roles: those the group key is wrapped for."""
    keyed = set(
        session.scalars(
            select(PracticeMember.account_id)
            .where(PracticeMember.practice_id == practice_id)
            .where(
                select(KeyDirectoryLeaf.leaf_index)
                .where(
                    KeyDirectoryLeaf.subject_kind == SubjectKind.USER.value,
                    KeyDirectoryLeaf.subject_id == PracticeMember.account_id,
                    KeyDirectoryLeaf.purpose == KeyPurpose.ENCRYPTION.value,
                )
                .exists()
            )
        )
    )
    return keyed & {
        member for member, role in attested(chain).items() if role in group.member_roles
    }


def _check_wraps(
    wraps: Sequence[MemberWrap],
    *,
    group_id: UUID,
    epoch: int,
    public_key: bytes,
    allowed: set[UUID],
    exactly: bool,
) -> None:
    """Every wrap's clear header names this group, epoch, key and its member; each member at most
    once, all in ``allowed``, and (``exactly``) every one of ``allowed``."""
    seen: set[UUID] = set()
    for wrap in wraps:
        try:
            header = read_group_wrap_header(wrap.wrap)
        except CryptoError:
            raise InvalidInput("not a group key wrap", field="wraps") from None
        if (header.group_id, header.epoch, header.public_key, header.member_id) != (
            group_id,
            epoch,
            public_key,
            wrap.account_id,
        ):
            raise InvalidInput("a wrap is for another group, epoch, key or member", field="wraps")
        if wrap.account_id in seen:
            raise InvalidInput("a member has two wraps", field="wraps")
        seen.add(wrap.account_id)
    if not seen <= allowed or (exactly and seen != allowed):
        what = "exactly the current members" if exactly else "members waiting for one"
        raise InvalidInput(f"wraps must be for {what}", field="wraps")


def _store_epoch(
    session: Session,
    *,
    group: KeyGroup,
    now: datetime,
    principal: Principal,
    practice_id: UUID,
    epoch: int,
    public_key: bytes,
    wraps: Sequence[MemberWrap],
    statement: bytes | None,
    chain: Sequence[MembershipStatement],
    log: LogSigner,
) -> PracticeKeyEpoch:
    group_id = group.group_id(practice_id)
    signed, members = check_epoch_statement(
        session,
        principal=principal,
        group_id=group_id,
        signer_role=group.signer_role,
        epoch=epoch,
        public_key=public_key,
        wrapped=[wrap.account_id for wrap in wraps],
        leaf=statement,
        chain=chain,
    )
    binding = KeyBinding(SubjectKind.GROUP, group_id, KeyPurpose.ENCRYPTION, epoch, public_key)
    leaf_index, *_ = publish_bindings(session, bindings=[binding, signed], now=now, log=log)
    row = PracticeKeyEpoch(
        practice_id=practice_id,
        clinical=group.clinical,
        epoch=epoch,
        public_key=public_key,
        leaf_index=leaf_index,
        created_by_account_id=principal.account_id,
        created_at=now,
        rotation_due=False,
        members=members,
    )
    session.add(row)
    session.flush()
    _insert_wraps(session, now=now, practice_id=practice_id, group=group, epoch=epoch, wraps=wraps)
    return row


def _insert_wraps(
    session: Session,
    *,
    now: datetime,
    practice_id: UUID,
    group: KeyGroup,
    epoch: int,
    wraps: Sequence[MemberWrap],
) -> None:
    if wraps:
        # One multi-row statement: a rotation of 1,000 members is not 1,000 round trips.
        session.execute(
            insert(PracticeKeyWrap),
            [
                {
                    "practice_id": practice_id,
                    "clinical": group.clinical,
                    "epoch": epoch,
                    "account_id": wrap.account_id,
                    "wrap": wrap.wrap,
                    "created_at": now,
                }
                for wrap in wraps
            ],
        )


# Use cases ---------------------------------------------------------------------------------------


def do_create_group(
    session: Session,
    *,
    now: datetime,
    principal: Principal,
    practice_id: UUID,
    public_key: bytes,
    wraps: Sequence[MemberWrap],
    log: LogSigner,
    statement: bytes | None = None,
    group: KeyGroup = PRACTICE,
) -> PracticeKeyEpoch:
    """Epoch 1, made by an admin's client once it signed the practice's membership chain: its
    public key, a wrap for every attested member and the admin's group epoch statement. For the
    practitioners' group: a practitioner's client, wrapped for every attested practitioner."""
    require(principal, group.manage, PracticeTarget(practice_id), what="practice")
    if current_epoch(session, practice_id=practice_id, group=group) is not None:
        raise Conflict(
            "the practice already has a key group"
            if group is PRACTICE
            else "the practice already has a practitioners' key group"
        )
    chain = signed_chain(session, practice_id=practice_id)
    _check_wraps(
        wraps,
        group_id=group.group_id(practice_id),
        epoch=FIRST_EPOCH,
        public_key=public_key,
        allowed=_keyed_members(session, practice_id, chain, group),
        exactly=True,
    )
    row = _store_epoch(
        session,
        group=group,
        now=now,
        principal=principal,
        practice_id=practice_id,
        epoch=FIRST_EPOCH,
        public_key=public_key,
        wraps=wraps,
        statement=statement,
        chain=chain,
        log=log,
    )
    _audit(session, now, principal, practice_id, group, group.created)
    return row


def do_add_wraps(
    session: Session,
    *,
    now: datetime,
    principal: Principal,
    practice_id: UUID,
    epoch: int,
    wraps: Sequence[MemberWrap],
    group: KeyGroup = PRACTICE,
) -> int:
    """A member's client seals the current key for members who have no wrap of it (newcomers)."""
    require(principal, group.manage, PracticeTarget(practice_id), what="practice")
    current = current_row(session, practice_id, group)
    if epoch != current.epoch:
        raise Conflict("the group key has changed; fetch it again", field="epoch")
    chain = stored_chain(session, practice_id=practice_id)
    _check_wraps(
        wraps,
        group_id=group.group_id(practice_id),
        epoch=current.epoch,
        public_key=current.public_key,
        allowed=_keyed_members(session, practice_id, chain, group)
        - wrapped_members(session, practice_id, group, epoch),
        exactly=False,
    )
    _insert_wraps(session, now=now, practice_id=practice_id, group=group, epoch=epoch, wraps=wraps)
    _audit(session, now, principal, practice_id, group, group.wrapped)
    return len(wraps)


def do_rotate_group(
    session: Session,
    *,
    now: datetime,
    principal: Principal,
    practice_id: UUID,
    epoch: int,
    public_key: bytes,
    wraps: Sequence[MemberWrap],
    log: LogSigner,
    statement: bytes | None = None,
    group: KeyGroup = PRACTICE,
) -> PracticeKeyEpoch:
    """The next epoch, wrapped for exactly the remaining attested members (practitioners, for
    their group), with the group epoch statement of an admin (a practitioner); clears
    rotation-due. A practice keyed before signed memberships is re-keyed this way once its admin
    signed the chain (docs/operations.md)."""
    require(principal, group.manage, PracticeTarget(practice_id), what="practice")
    current = current_row(session, practice_id, group, lock=True)
    if epoch != current.epoch + 1:
        raise Conflict("a rotation makes the epoch after the current one", field="epoch")
    chain = signed_chain(session, practice_id=practice_id)
    _check_wraps(
        wraps,
        group_id=group.group_id(practice_id),
        epoch=epoch,
        public_key=public_key,
        allowed=_keyed_members(session, practice_id, chain, group),
        exactly=True,
    )
    row = _store_epoch(
        session,
        group=group,
        now=now,
        principal=principal,
        practice_id=practice_id,
        epoch=epoch,
        public_key=public_key,
        wraps=wraps,
        statement=statement,
        chain=chain,
        log=log,
    )
    _audit(session, now, principal, practice_id, group, group.rotated)
    return row


def do_remove_member(
    session: Session, *, now: datetime, principal: Principal, practice_id: UUID, account_id: UUID
) -> None:
    """An admin removes a member (not the last admin): membership and wraps go, rotation is due.

    Only for a practice without a key group or signed memberships: once either exists, a removal
    is an admin's signed statement (409 here), so the operator cannot fake or skip one."""
    require(principal, Action.PRACTICE_MEMBER_REMOVE, PracticeTarget(practice_id), what="practice")
    if stored_chain(session, practice_id=practice_id) or current_epoch(
        session, practice_id=practice_id
    ):
        raise Conflict("removals in a keyed practice are signed: post a removal statement instead")
    remove_membership(
        session, now=now, principal=principal, practice_id=practice_id, account_id=account_id
    )


def wrapped_members(session: Session, practice_id: UUID, group: KeyGroup, epoch: int) -> set[UUID]:
    """The members holding a wrap of the group's key at ``epoch``."""
    return set(
        session.scalars(
            select(PracticeKeyWrap.account_id).where(
                PracticeKeyWrap.practice_id == practice_id,
                PracticeKeyWrap.clinical == group.clinical,
                PracticeKeyWrap.epoch == epoch,
            )
        )
    )


def _audit(
    session: Session,
    now: datetime,
    principal: Principal,
    practice_id: UUID,
    group: KeyGroup,
    action: AuditAction,
) -> None:
    record(
        session,
        at=now,
        action=action,
        principal=principal,
        practice_id=practice_id,
        object_kind=group.name,
        object_id=group.group_id(practice_id),
    )
