"""The account's notification inbox: every message sent to an account, under the reference the
message names, so that a person can tell a real message from a forged one.

Two sources, one per table (docs/notifications.md): appointment messages (``outbox_messages``,
by the account the worker recorded as their recipient) and account notices (``account_mail``,
by the account they are about). Pending messages already addressed to the account (a retry) show
as on their way; failed ones were never received and are not listed. What an entry says is what
the message said, less: the template, the practice, the appointment's time; never the visit.
"""

from __future__ import annotations

import base64
import binascii
import enum
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from colloque.audit.objects import ObjectKind
from colloque.audit.services import AuditAction, record
from colloque.authorization.policy import AccountTarget, Action, require
from colloque.booking.models import Appointment
from colloque.errors import InvalidInput, NotFound
from colloque.notifications.models import AccountMail, OutboxMessage
from colloque.notifications.rendering import reference_code
from colloque.notifications.services import Template
from colloque.principal import Principal
from colloque.scheduling.models import Practice

MAX_PAGE = 100
#: Account notices in the inbox: ``template`` for all of them, their subject says which.
ACCOUNT_NOTICE = "account_notice"
_LISTED = ("sent", "pending")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class InboxStatus(enum.StrEnum):
    SENT = "sent"
    #: Addressed to the account, not handed over yet (a retry is due).
    ON_ITS_WAY = "on_its_way"


@dataclass(frozen=True, slots=True)
class InboxEntry:
    #: The row's id: the paging cursor's tie-breaker, never shown.
    entry_id: UUID
    reference: str
    template: str
    #: ``email``, or ``sms`` for the day-before SMS reminder (today SMS go only to patients
    #: without an account, whose messages no inbox lists; the field does not assume it).
    channel: str
    status: InboxStatus
    created_at: datetime
    sent_at: datetime | None
    #: An account notice's subject line (fixed text, no personal data); None otherwise.
    subject: str | None = None
    practice_id: UUID | None = None
    practice_name: str | None = None
    practice_timezone: str | None = None
    appointment_id: UUID | None = None
    appointment_starts_at: datetime | None = None
    #: The appointment's patient: named in the read's audit event, not shown.
    patient_id: UUID | None = None

    def refs(self) -> list[tuple[ObjectKind, UUID]]:
        """What showing this entry names in an audit event."""
        refs = [(ObjectKind.NOTIFICATION, self.entry_id)]
        if self.appointment_id is not None and self.patient_id is not None:
            refs += [
                (ObjectKind.APPOINTMENT, self.appointment_id),
                (ObjectKind.PATIENT, self.patient_id),
            ]
        return refs


@dataclass(frozen=True, slots=True)
class Cursor:
    """Where a page ends: entries strictly older than this (time, then id) come next."""

    created_at: datetime
    entry_id: UUID

    def encode(self) -> str:
        """Microseconds since the epoch (exact, and safe in a URL), then the id."""
        return f"{(self.created_at - _EPOCH) // timedelta(microseconds=1)}_{self.entry_id}"

    @classmethod
    def decode(cls, text: str) -> Cursor:
        at, _, entry = text.partition("_")
        try:
            return cls(_EPOCH + timedelta(microseconds=int(at)), UUID(entry))
        except (ValueError, OverflowError):
            raise InvalidInput("unknown paging cursor", field="before") from None


@dataclass(frozen=True, slots=True)
class InboxPage:
    entries: list[InboxEntry]
    #: The cursor of the next page, None at the end.
    next_before: str | None


def parse_reference(text: str) -> bytes:
    """The five bytes a reference names (``reference_code``); 422 for anything else."""
    cleaned = text.strip().replace(" ", "").replace("-", "").upper()
    try:
        raw = base64.b32decode(cleaned) if len(cleaned) == 8 else b""
    except binascii.Error:
        raw = b""
    if len(raw) != 5:
        raise InvalidInput("a reference is 8 letters and digits", field="reference")
    return raw


def list_inbox(
    session: Session,
    *,
    now: datetime,
    principal: Principal,
    before: str | None = None,
    limit: int = 50,
) -> InboxPage:
    """The account's messages, newest first, ``limit`` of them older than ``before``."""
    account_id = _own(principal)
    cursor = Cursor.decode(before) if before is not None else None
    entries = _entries(session, account_id, cursor=cursor, limit=limit + 1)
    page = entries[:limit]
    record(
        session,
        at=now,
        action=AuditAction.NOTIFICATIONS_LISTED,
        principal=principal,
        object_kind="notification_list",
        object_id=None,
        objects=[ref for entry in page for ref in entry.refs()],
    )
    more = len(entries) > limit
    last = page[-1] if page else None
    next_before = (
        Cursor(last.created_at, last.entry_id).encode() if more and last is not None else None
    )
    return InboxPage(entries=page, next_before=next_before)


def check_reference(
    session: Session, *, now: datetime, principal: Principal, reference: str
) -> InboxEntry:
    """The message of the account's that names ``reference``; 404 when it has none."""
    account_id = _own(principal)
    prefix = parse_reference(reference)
    # A reference is the first five bytes of the row's id: the ids it may name are a range.
    low, high = UUID(bytes=prefix + bytes(11)), UUID(bytes=prefix + b"\xff" * 11)
    found = _entries(session, account_id, cursor=None, limit=1, id_range=(low, high))
    record(
        session,
        at=now,
        action=AuditAction.NOTIFICATION_CHECKED,
        principal=principal,
        object_kind="notification",
        object_id=found[0].entry_id if found else None,
        objects=[ref for entry in found for ref in entry.refs()],
    )
    if not found:
        raise NotFound("no message with this reference", field="reference")
    return found[0]


def _own(principal: Principal) -> UUID:
    """The signed-in account, whose inbox this is: the only one the policy lets it read."""
    account_id = principal.account_id
    require(
        principal, Action.ACCOUNT_NOTIFICATIONS_VIEW, AccountTarget(account_id), what="notification"
    )
    assert account_id is not None  # the policy refused anonymous principals
    return account_id


def _older(
    at: InstrumentedAttribute[datetime], key: InstrumentedAttribute[UUID], cursor: Cursor
) -> ColumnElement[bool]:
    return or_(at < cursor.created_at, and_(at == cursor.created_at, key < cursor.entry_id))


def _entries(
    session: Session,
    account_id: UUID,
    *,
    cursor: Cursor | None,
    limit: int,
    id_range: tuple[UUID, UUID] | None = None,
) -> list[InboxEntry]:
    """Up to ``limit`` of each source, merged: the newest ``limit`` of both."""
    messages = (
        select(OutboxMessage, Practice, Appointment)
        .join(Practice, Practice.practice_id == OutboxMessage.practice_id)
        .outerjoin(
            Appointment,
            and_(
                Appointment.practice_id == OutboxMessage.practice_id,
                Appointment.appointment_id == OutboxMessage.appointment_id,
            ),
        )
        .where(
            OutboxMessage.recipient_account_id == account_id,
            OutboxMessage.status.in_(_LISTED),
        )
        .order_by(OutboxMessage.created_at.desc(), OutboxMessage.message_id.desc())
        .limit(limit)
    )
    notices = (
        select(AccountMail)
        .where(AccountMail.account_id == account_id, AccountMail.status.in_(_LISTED))
        .order_by(AccountMail.created_at.desc(), AccountMail.mail_id.desc())
        .limit(limit)
    )
    if cursor is not None:
        messages = messages.where(
            _older(OutboxMessage.created_at, OutboxMessage.message_id, cursor)
        )
        notices = notices.where(_older(AccountMail.created_at, AccountMail.mail_id, cursor))
    if id_range is not None:
        messages = messages.where(OutboxMessage.message_id.between(*id_range))
        notices = notices.where(AccountMail.mail_id.between(*id_range))
    entries = [
        InboxEntry(
            reference=reference_code(row.message_id),
            template=row.template,
            channel="sms" if row.template == Template.REMINDER_SMS else "email",
            status=_status(row.status),
            created_at=row.created_at,
            sent_at=row.sent_at,
            practice_id=practice.practice_id,
            practice_name=practice.name,
            practice_timezone=practice.timezone,
            appointment_id=appointment.appointment_id if appointment is not None else None,
            appointment_starts_at=appointment.starts_at if appointment is not None else None,
            patient_id=appointment.patient_id if appointment is not None else None,
            entry_id=row.message_id,
        )
        for row, practice, appointment in session.execute(messages)
    ]
    entries += [
        InboxEntry(
            reference=reference_code(row.mail_id),
            template=ACCOUNT_NOTICE,
            channel="email",
            status=_status(row.status),
            created_at=row.created_at,
            sent_at=row.sent_at,
            subject=row.kind,
            entry_id=row.mail_id,
        )
        for row in session.scalars(notices)
    ]
    entries.sort(key=lambda e: (e.created_at, e.entry_id), reverse=True)
    return entries[:limit]


def _status(status: str) -> InboxStatus:
    return InboxStatus.SENT if status == "sent" else InboxStatus.ON_ITS_WAY
