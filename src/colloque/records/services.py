"""Sealed items: storing them after checking their clear headers, listing them, moving their key wraps.

The server never holds an item key. What it can check without one, it checks before storing
(docs/crypto.md, "What the server checks"): the envelope's kind, item id, context and author match
the request; the author's signature verifies with the author's current signing key; and the key
is wrapped exactly once for each recipient that must read the item (the patient's holder at their
current key epoch, the practice group at its current epoch; for a note, the practitioners' group
instead of the practice group), for nobody else.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from sqlalchemy import and_, delete, or_, select
from sqlalchemy.orm import Session

from colloque.accounts.models import KeyBundleRow
from colloque.audit.objects import ObjectKind
from colloque.audit.services import AuditAction, record
from colloque.crypto.errors import CryptoError
from colloque.crypto.items import (
    ItemKind,
    WrapHeader,
    read_item_header,
    read_wrap_header,
    verify_item_signature,
)
from colloque.crypto.transparency import KeyBinding, KeyPurpose, SubjectKind
from colloque.errors import Conflict, InvalidInput, Unauthenticated, UnusableId
from colloque.ids import is_random
from colloque.patients.models import Patient
from colloque.practicekeys.groups import CLINICAL, PRACTICE, KeyGroup
from colloque.practicekeys.services import CurrentEpoch, current_state
from colloque.principal import Principal
from colloque.records.models import ItemKeyWrap, SealedItemRow

#: An item envelope: 171 bytes of header and signature around at most 64 KiB + 256 + 16.
MAX_ENVELOPE_BYTES = 66_000
#: A wrap is 158 bytes in this version; a little room for the next.
MAX_WRAP_BYTES = 512
MAX_WRAPS = 4
MAX_PAGE = 100

KINDS: dict[str, ItemKind] = {
    "visit_reason": ItemKind.VISIT_REASON,
    "note": ItemKind.NOTE,
    "message": ItemKind.MESSAGE,
    "document": ItemKind.DOCUMENT,
}
_RECIPIENT = {SubjectKind.USER: "user", SubjectKind.GROUP: "practice"}


@dataclass(frozen=True, slots=True)
class Recipient:
    """Who must get a wrap: ``kind`` "user" (an account) or "practice" (one of the practice's
    groups: ``recipient_id`` is the practice's id, or its practitioners' group's)."""

    kind: str
    recipient_id: UUID
    epoch: int


def user_epoch(session: Session, *, account_id: UUID) -> int | None:
    bundle = session.get(KeyBundleRow, account_id)
    return None if bundle is None else bundle.epoch


def expected_recipients(
    session: Session, *, group_id: UUID, patient: Patient, group: CurrentEpoch | None
) -> set[Recipient]:
    """The patient's holder (if any, with keys) and the group ``group_id`` (once it exists)."""
    wanted: set[Recipient] = set()
    if patient.holder_account_id is not None:
        epoch = user_epoch(session, account_id=patient.holder_account_id)
        if epoch is not None:
            wanted.add(Recipient("user", patient.holder_account_id, epoch))
    if group is not None:
        wanted.add(Recipient("practice", group_id, group.epoch))
    return wanted


def sealing_group(kind: str) -> KeyGroup:
    """The group an item of ``kind`` is sealed to: notes to the practitioners', the rest to the
    practice's."""
    return CLINICAL if kind == "note" else PRACTICE


def _current_group(session: Session, practice_id: UUID, group: KeyGroup) -> CurrentEpoch | None:
    """The group's current epoch, refused (409 naming ``wraps``) while it is rotation-due, or,
    for the practitioners' group, before a practitioner made it."""
    state = current_state(session, practice_id=practice_id, group=group)
    if group is CLINICAL and state is None:
        raise Conflict(
            "the practitioners' key group does not exist yet: a practitioner's client creates it "
            "first",
            field="wraps",
        )
    if state is not None and state.rotation_due:
        # A member left and still holds the current group key: nothing new is sealed for it.
        raise Conflict(
            "the practice's key must be rotated first (a member left); try again shortly"
            if group is PRACTICE
            else "the practitioners' key must be rotated first (a practitioner left); try again "
            "shortly",
            field="wraps",
        )
    return state


def _author_bundle(session: Session, account_id: UUID) -> KeyBundleRow:
    bundle = session.get(KeyBundleRow, account_id)
    if bundle is None:
        raise InvalidInput("your account has no signing key yet", field="envelope")
    return bundle


def parse_wrap(wrap: bytes, *, field: str) -> WrapHeader:
    """The clear header of a wrap from a request, or a 422 naming ``field``."""
    if len(wrap) > MAX_WRAP_BYTES:
        raise InvalidInput("a key wrap is too large", field=field)
    try:
        return read_wrap_header(wrap)
    except CryptoError:
        raise InvalidInput("not a key wrap", field=field) from None


def check_wrap(wrap: bytes, *, item_id: UUID, wanted: set[Recipient], field: str) -> Recipient:
    """The wrap is for this item and for one of the ``wanted`` recipients (at their epoch)."""
    header = parse_wrap(wrap, field=field)
    if header.item_id != item_id:
        raise InvalidInput("a key wrap of another item", field=field)
    recipient = Recipient(_RECIPIENT[header.recipient_kind], header.recipient_id, header.epoch)
    if recipient not in wanted:
        raise InvalidInput("a key wrap for a recipient or epoch not expected", field=field)
    return recipient


def check_wraps(
    wraps: Sequence[bytes], *, item_id: UUID, wanted: set[Recipient]
) -> list[tuple[Recipient, bytes]]:
    """Each wrap is for this item and one wanted recipient; every wanted recipient has one."""
    if len(wraps) > MAX_WRAPS:
        raise InvalidInput("too many key wraps", field="wraps")
    found: dict[Recipient, bytes] = {}
    for index, wrap in enumerate(wraps):
        at = f"wraps[{index}]"
        recipient = check_wrap(wrap, item_id=item_id, wanted=wanted, field=at)
        if recipient in found:
            raise InvalidInput("two key wraps for the same recipient", field=at)
        found[recipient] = wrap
    if len(found) != len(wanted):
        raise InvalidInput("a recipient has no key wrap", field="wraps")
    return list(found.items())


UNUSABLE_ITEM_ID = "this item id cannot be used: draw a new random one (UUID version 4)"


def item_id_taken(session: Session, item_id: UUID) -> bool:
    """Whether any sealed item, of any practice, has this id (one indexed lookup)."""
    return (
        session.scalar(
            select(SealedItemRow.item_id).where(SealedItemRow.item_id == item_id).limit(1)
        )
        is not None
    )


def store_sealed_item(
    session: Session,
    *,
    principal: Principal,
    practice_id: UUID,
    patient_id: UUID,
    kind: str,
    context_id: UUID,
    envelope: bytes,
    wraps: Sequence[bytes],
    now: datetime,
    size_bytes: int | None = None,
) -> SealedItemRow:
    """Check and store one sealed item and its key wraps. The caller has authorized the principal.

    ``size_bytes`` is the stored ciphertext size when it is not the envelope's (a document).
    Raises a 4xx problem naming ``envelope`` or ``wraps[i]`` for anything that does not fit.
    """
    if principal.account_id is None:
        raise Unauthenticated("sign in to do this")
    expected_kind = KINDS[kind]
    if len(envelope) > MAX_ENVELOPE_BYTES:
        raise InvalidInput("the envelope is too large", field="envelope")
    try:
        header = read_item_header(envelope)
    except CryptoError:
        raise InvalidInput("not an item envelope", field="envelope") from None
    if header.kind is not expected_kind:
        raise InvalidInput("the envelope is of another kind", field="envelope")
    if header.context_id != context_id:
        raise InvalidInput("the envelope belongs to another context", field="envelope")
    if header.author_id != principal.account_id:
        raise InvalidInput("the envelope names another author", field="envelope")
    # Held for the whole call: the session's identity map keeps rows only while they are
    # referenced, and the holder is often the author (a patient booking for themself).
    author = _author_bundle(session, principal.account_id)
    signing = KeyBinding(
        SubjectKind.USER, author.account_id, KeyPurpose.SIGNING, author.epoch, author.signing_public
    )
    try:
        verify_item_signature(envelope, author=signing)
    except CryptoError:
        raise InvalidInput("the author signature does not verify", field="envelope") from None
    # One query and one answer whether the id is malformed or used (anywhere, by anyone): a
    # used id must not tell that it exists (errors.UnusableId).
    if item_id_taken(session, header.item_id) or not is_random(header.item_id):
        raise UnusableId(UNUSABLE_ITEM_ID, field="envelope")
    patient = session.get(Patient, patient_id)
    if patient is None:
        raise ValueError("store_sealed_item needs an existing patient")
    sealed_to = sealing_group(kind)
    group = _current_group(session, practice_id, sealed_to)
    wanted = expected_recipients(
        session, group_id=sealed_to.group_id(practice_id), patient=patient, group=group
    )
    if not wanted:
        raise InvalidInput("nobody could read this item yet", field="wraps")
    checked = check_wraps(wraps, item_id=header.item_id, wanted=wanted)
    row = SealedItemRow(
        practice_id=practice_id,
        item_id=header.item_id,
        kind=kind,
        patient_id=patient_id,
        context_id=context_id,
        author_account_id=principal.account_id,
        envelope=envelope,
        size_bytes=len(envelope) if size_bytes is None else size_bytes,
        created_at=now,
    )
    session.add(row)
    session.flush()
    session.add_all(
        ItemKeyWrap(
            practice_id=practice_id,
            item_id=header.item_id,
            recipient_kind=recipient.kind,
            recipient_id=recipient.recipient_id,
            epoch=recipient.epoch,
            wrap=wrap,
        )
        for recipient, wrap in checked
    )
    record(
        session,
        at=now,
        action=AuditAction.SEALED_ITEM_STORED,
        principal=principal,
        practice_id=practice_id,
        subject_id=patient_id,
        object_kind=kind,
        object_id=header.item_id,
        objects=[(ObjectKind.ITEM, header.item_id)],
    )
    return row


@dataclass(frozen=True, slots=True)
class ItemWithWraps:
    item: SealedItemRow
    wraps: list[ItemKeyWrap]


def list_items(
    session: Session,
    *,
    practice_id: UUID,
    kind: str,
    context_id: UUID,
    reader: Recipient,
    before: UUID | None,
    limit: int,
    also: UUID | None = None,
) -> list[ItemWithWraps]:
    """Newest first, ``limit`` items older than the item ``before``; with the reader's wraps.

    ``reader`` is ("user", account, any epoch) for a holder, ("practice", practice, any epoch) for
    staff: the epoch is ignored so that wraps not yet re-wrapped are still handed out. ``also``:
    another recipient id of the same kind whose wraps the reader gets too (a practitioner reading
    notes: the practitioners' group, and the practice group that older notes were sealed to).
    """
    statement = select(SealedItemRow).where(
        SealedItemRow.practice_id == practice_id,
        SealedItemRow.context_id == context_id,
        SealedItemRow.kind == kind,
    )
    if before is not None:
        # Within the listed context and kind only: a cursor naming another context's item
        # (another patient's) costs what an unknown one does.
        anchor = session.execute(
            select(SealedItemRow.created_at, SealedItemRow.item_id).where(
                SealedItemRow.practice_id == practice_id,
                SealedItemRow.item_id == before,
                SealedItemRow.context_id == context_id,
                SealedItemRow.kind == kind,
            )
        ).one_or_none()
        if anchor is None:
            raise InvalidInput("unknown paging cursor", field="before")
        statement = statement.where(
            or_(
                SealedItemRow.created_at < anchor.created_at,
                and_(
                    SealedItemRow.created_at == anchor.created_at,
                    SealedItemRow.item_id < anchor.item_id,
                ),
            )
        )
    rows = list(
        session.scalars(
            statement.order_by(SealedItemRow.created_at.desc(), SealedItemRow.item_id.desc()).limit(
                min(limit, MAX_PAGE)
            )
        )
    )
    wraps: dict[UUID, list[ItemKeyWrap]] = {row.item_id: [] for row in rows}
    if rows:
        for wrap in session.scalars(
            select(ItemKeyWrap)
            .where(
                ItemKeyWrap.practice_id == practice_id,
                ItemKeyWrap.item_id.in_(list(wraps)),
                ItemKeyWrap.recipient_kind == reader.kind,
                ItemKeyWrap.recipient_id.in_(
                    [reader.recipient_id] + ([] if also is None else [also])
                ),
            )
            .order_by(ItemKeyWrap.epoch)
        ):
            wraps[wrap.item_id].append(wrap)
    return [ItemWithWraps(row, wraps[row.item_id]) for row in rows]


def replace_wraps(
    session: Session,
    *,
    practice_id: UUID,
    recipient_kind: str,
    recipient_id: UUID,
    new_epoch: int,
    items: Sequence[tuple[UUID, bytes]],
) -> None:
    """Store new wraps for (recipient, ``new_epoch``) and drop that recipient's older wraps."""
    item_ids = [item_id for item_id, _ in items]
    session.execute(
        delete(ItemKeyWrap).where(
            ItemKeyWrap.practice_id == practice_id,
            ItemKeyWrap.item_id.in_(item_ids),
            ItemKeyWrap.recipient_kind == recipient_kind,
            ItemKeyWrap.recipient_id == recipient_id,
        )
    )
    session.add_all(
        ItemKeyWrap(
            practice_id=practice_id,
            item_id=item_id,
            recipient_kind=recipient_kind,
            recipient_id=recipient_id,
            epoch=new_epoch,
            wrap=wrap,
        )
        for item_id, wrap in items
    )
