"""Moving item keys to new keys: after a group rotation, and after a patient's key reset.

The server cannot do either: it holds no key. A member's client fetches the wraps it can open, opens
them, and posts new wraps; the server checks each new wrap's clear header (this item, this
recipient, the current epoch) and then drops the recipient's older wraps of those items. The
practitioners' group (notes) is re-wrapped the same way, by practitioners only.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from colloque.audit.objects import ObjectKind
from colloque.audit.services import AuditAction, record
from colloque.authorization.policy import Action, PracticeTarget, require
from colloque.errors import InvalidInput
from colloque.patients.registry import get_registered_patient
from colloque.practicekeys.groups import PRACTICE, KeyGroup
from colloque.practicekeys.services import current_epoch
from colloque.principal import Principal
from colloque.records.models import ItemKeyWrap, SealedItemRow
from colloque.records.services import (
    MAX_PAGE,
    Recipient,
    check_wrap,
    parse_wrap,
    replace_wraps,
    user_epoch,
)

MAX_BATCH = 200


def _group_epoch(session: Session, practice_id: UUID, group: KeyGroup) -> int:
    epoch = current_epoch(session, practice_id=practice_id, group=group)
    if epoch is None:
        if group is PRACTICE:
            raise InvalidInput("this practice has no key group yet", field="practice_id")
        raise InvalidInput("this practice has no practitioners' key group yet", field="group")
    return epoch


def _may_rewrap(principal: Principal, practice_id: UUID, group: KeyGroup) -> None:
    """Staff re-wrap the practice group's item keys; practitioners alone their group's."""
    require(
        principal, Action.PRACTICE_ITEM_KEY_REWRAP, PracticeTarget(practice_id), what="practice"
    )
    if group is not PRACTICE:
        require(principal, group.manage, PracticeTarget(practice_id), what="practice")


@dataclass(frozen=True, slots=True)
class StaleWraps:
    current_epoch: int
    wraps: list[ItemKeyWrap]
    next_after: UUID | None


def _item_refs(items: Iterable[tuple[UUID, UUID]]) -> list[tuple[ObjectKind, UUID]]:
    """What an event about these (item, patient) pairs names: each item and its patient."""
    return [
        ref
        for item_id, patient_id in items
        for ref in ((ObjectKind.ITEM, item_id), (ObjectKind.PATIENT, patient_id))
    ]


def list_stale_practice_wraps(
    session: Session,
    *,
    now: datetime,
    principal: Principal,
    practice_id: UUID,
    after: UUID | None,
    limit: int,
    group: KeyGroup = PRACTICE,
) -> StaleWraps:
    """The group's wraps at an epoch older than the current one, by item id after ``after``.
    Audited: a read of key wraps, naming each item and its patient."""
    _may_rewrap(principal, practice_id, group)
    current = _group_epoch(session, practice_id, group)
    stale = (
        ItemKeyWrap.practice_id == practice_id,
        ItemKeyWrap.recipient_kind == "practice",
        ItemKeyWrap.recipient_id == group.group_id(practice_id),
        ItemKeyWrap.epoch < current,
    )
    # The item's patient comes with its id, for the audit event.
    statement = (
        select(ItemKeyWrap.item_id, SealedItemRow.patient_id)
        .join(
            SealedItemRow,
            (SealedItemRow.practice_id == ItemKeyWrap.practice_id)
            & (SealedItemRow.item_id == ItemKeyWrap.item_id),
        )
        .where(*stale)
        .distinct()
    )
    if after is not None:
        statement = statement.where(ItemKeyWrap.item_id > after)
    size = min(limit, MAX_PAGE)
    items = [
        (item_id, patient_id)
        for item_id, patient_id in session.execute(
            statement.order_by(ItemKeyWrap.item_id).limit(size)
        )
    ]
    item_ids = [item_id for item_id, _patient in items]
    wraps = session.scalars(
        select(ItemKeyWrap)
        .where(*stale, ItemKeyWrap.item_id.in_(item_ids))
        .order_by(ItemKeyWrap.item_id, ItemKeyWrap.epoch)
    )
    record(
        session,
        at=now,
        action=AuditAction.SEALED_ITEMS_READ,
        principal=principal,
        practice_id=practice_id,
        object_kind="item_key_wraps",
        object_id=None,
        objects=_item_refs(items),
    )
    return StaleWraps(current, list(wraps), _next(item_ids, size))


def _next(item_ids: list[UUID], size: int) -> UUID | None:
    """The cursor of the next page, or None when this page is the last."""
    return item_ids[-1] if len(item_ids) == size else None


def _batch(
    session: Session, wraps: Sequence[bytes], practice_id: UUID, patient_id: UUID | None
) -> tuple[dict[UUID, bytes], dict[UUID, UUID]]:
    """The wraps by item, and each item's patient (what the write's event names)."""
    if not wraps:
        raise InvalidInput("no key wraps", field="wraps")
    if len(wraps) > MAX_BATCH:
        raise InvalidInput(f"at most {MAX_BATCH} key wraps at once", field="wraps")
    by_item: dict[UUID, bytes] = {}
    for index, wrap in enumerate(wraps):
        item_id = parse_wrap(wrap, field=f"wraps[{index}]").item_id
        if item_id in by_item:
            raise InvalidInput("two key wraps for the same item", field=f"wraps[{index}]")
        by_item[item_id] = wrap
    statement = select(SealedItemRow.item_id, SealedItemRow.patient_id).where(
        SealedItemRow.practice_id == practice_id, SealedItemRow.item_id.in_(list(by_item))
    )
    if patient_id is not None:
        statement = statement.where(SealedItemRow.patient_id == patient_id)
    known: dict[UUID, UUID] = {row.item_id: row.patient_id for row in session.execute(statement)}
    for index, item_id in enumerate(by_item):
        if item_id not in known:
            raise InvalidInput("a key wrap of an unknown item", field=f"wraps[{index}]")
    return by_item, known


def do_rewrap_practice_items(
    session: Session,
    *,
    now: datetime,
    principal: Principal,
    practice_id: UUID,
    wraps: Sequence[bytes],
    group: KeyGroup = PRACTICE,
) -> int:
    """Store wraps for the group's current epoch; drop its older wraps of those items."""
    _may_rewrap(principal, practice_id, group)
    current = _group_epoch(session, practice_id, group)
    by_item, patients = _batch(session, wraps, practice_id, None)
    group_id = group.group_id(practice_id)
    wanted = Recipient("practice", group_id, current)
    for index, (item_id, wrap) in enumerate(by_item.items()):
        check_wrap(wrap, item_id=item_id, wanted={wanted}, field=f"wraps[{index}]")
    replace_wraps(
        session,
        practice_id=practice_id,
        recipient_kind="practice",
        recipient_id=group_id,
        new_epoch=current,
        items=list(by_item.items()),
    )
    record(
        session,
        at=now,
        action=AuditAction.ITEM_KEYS_REWRAPPED,
        principal=principal,
        practice_id=practice_id,
        object_kind="item_key_wraps",
        object_id=None,
        objects=_item_refs(patients.items()),
    )
    return len(by_item)


@dataclass(frozen=True, slots=True)
class Reshare:
    """What a member's client needs to re-share a patient's items to the holder's new keys."""

    holder_account_id: UUID
    holder_epoch: int
    #: The practice's wraps of each item the holder cannot open at their current epoch.
    wraps: list[ItemKeyWrap]
    next_after: UUID | None


def _holder(session: Session, practice_id: UUID, patient_id: UUID) -> tuple[UUID, int]:
    patient = get_registered_patient(session, practice_id=practice_id, patient_id=patient_id)
    holder = patient.holder_account_id
    epoch = None if holder is None else user_epoch(session, account_id=holder)
    if holder is None or epoch is None:
        raise InvalidInput("this patient has no account with keys", field="patient_id")
    return holder, epoch


def list_reshare(
    session: Session,
    *,
    now: datetime,
    principal: Principal,
    practice_id: UUID,
    patient_id: UUID,
    after: UUID | None,
    limit: int,
) -> Reshare:
    """The patient's items at this practice without a wrap for the holder's current key epoch."""
    require(
        principal, Action.PRACTICE_ITEM_KEY_RESHARE, PracticeTarget(practice_id), what="practice"
    )
    holder, epoch = _holder(session, practice_id, patient_id)
    current_wrap = exists().where(
        ItemKeyWrap.practice_id == SealedItemRow.practice_id,
        ItemKeyWrap.item_id == SealedItemRow.item_id,
        ItemKeyWrap.recipient_kind == "user",
        ItemKeyWrap.recipient_id == holder,
        ItemKeyWrap.epoch == epoch,
    )
    statement = select(SealedItemRow.item_id).where(
        SealedItemRow.practice_id == practice_id,
        SealedItemRow.patient_id == patient_id,
        ~current_wrap,
    )
    if after is not None:
        statement = statement.where(SealedItemRow.item_id > after)
    size = min(limit, MAX_PAGE)
    item_ids = list(session.scalars(statement.order_by(SealedItemRow.item_id).limit(size)))
    wraps = session.scalars(
        select(ItemKeyWrap)
        .where(
            ItemKeyWrap.practice_id == practice_id,
            ItemKeyWrap.item_id.in_(item_ids),
            ItemKeyWrap.recipient_kind == "practice",
        )
        .order_by(ItemKeyWrap.item_id, ItemKeyWrap.epoch)
    )
    record(
        session,
        at=now,
        action=AuditAction.SEALED_ITEMS_READ,
        principal=principal,
        practice_id=practice_id,
        subject_id=patient_id,
        object_kind="item_key_wraps",
        object_id=None,
        objects=[(ObjectKind.ITEM, item_id) for item_id in item_ids],
    )
    return Reshare(holder, epoch, list(wraps), _next(item_ids, size))


def do_reshare_patient_items(
    session: Session,
    *,
    now: datetime,
    principal: Principal,
    practice_id: UUID,
    patient_id: UUID,
    identity_checked: bool,
    wraps: Sequence[bytes],
) -> int:
    """After a member checked the patient's identity: wraps for the holder's new key epoch."""
    require(
        principal, Action.PRACTICE_ITEM_KEY_RESHARE, PracticeTarget(practice_id), what="practice"
    )
    holder, epoch = _holder(session, practice_id, patient_id)
    if not identity_checked:
        raise InvalidInput(
            "check the patient's identity in person before re-sharing", field="identity_checked"
        )
    by_item, patients = _batch(session, wraps, practice_id, patient_id)
    wanted = Recipient("user", holder, epoch)
    for index, (item_id, wrap) in enumerate(by_item.items()):
        check_wrap(wrap, item_id=item_id, wanted={wanted}, field=f"wraps[{index}]")
    replace_wraps(
        session,
        practice_id=practice_id,
        recipient_kind="user",
        recipient_id=holder,
        new_epoch=epoch,
        items=list(by_item.items()),
    )
    record(
        session,
        at=now,
        action=AuditAction.ITEM_KEYS_RESHARED,
        principal=principal,
        practice_id=practice_id,
        subject_id=patient_id,
        object_kind="item_key_wraps",
        object_id=None,
        objects=_item_refs(patients.items()),
    )
    return len(by_item)
