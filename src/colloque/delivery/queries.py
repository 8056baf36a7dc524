"""Reads of the outbox for the practice's admins and the operator: what could not be sent.

Ids, templates, counts and error categories only: the recipient is not stored, and the content
is rendered only when sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from colloque.audit.objects import ObjectKind
from colloque.audit.services import AuditAction, record
from colloque.authorization.policy import Action, PracticeTarget, require
from colloque.notifications.models import AccountMail, OutboxMessage
from colloque.principal import Principal

#: Why a reminder was rightly not sent (``delivery.compose``): left out of the failed lists.
STALE_REMINDER = ("not_booked", "moved", "reminders_off", "no_longer_no_show")


@dataclass(frozen=True, slots=True)
class FailedMessage:
    practice_id: UUID
    message_id: UUID
    template: str
    appointment_id: UUID | None
    attempts: int
    last_error: str | None
    created_at: datetime
    #: The patient it was about: named in the read's audit event, not shown.
    patient_id: UUID | None = None


@dataclass(frozen=True, slots=True)
class FailedAccountMail:
    mail_id: UUID
    kind: str
    attempts: int
    last_error: str | None
    created_at: datetime


def failed_messages(
    session: Session, *, practice_id: UUID | None = None, limit: int = 100
) -> list[FailedMessage]:
    """The newest failed messages, of one practice or (the operator) of all."""
    statement = select(OutboxMessage).where(
        OutboxMessage.status == "failed",
        # A reminder let go because its appointment changed or reminders were turned off since it
        # was queued did what it should: not a failure anyone has to look at.
        or_(
            OutboxMessage.last_error.is_(None),
            OutboxMessage.last_error.not_in(STALE_REMINDER),
        ),
    )
    if practice_id is not None:
        statement = statement.where(OutboxMessage.practice_id == practice_id)
    statement = statement.order_by(OutboxMessage.created_at.desc()).limit(limit)
    return [
        FailedMessage(
            practice_id=row.practice_id,
            message_id=row.message_id,
            template=row.template,
            appointment_id=row.appointment_id,
            attempts=row.attempts,
            last_error=row.last_error,
            created_at=row.created_at,
            patient_id=row.patient_id,
        )
        for row in session.scalars(statement)
    ]


def list_failed_messages(
    session: Session, *, now: datetime, principal: Principal, practice_id: UUID, limit: int = 100
) -> list[FailedMessage]:
    """A practice's admins see its failed messages (``practice:outbox:view``); the read is
    audited, naming each message and the appointment and patient it was about."""
    require(principal, Action.PRACTICE_OUTBOX_VIEW, PracticeTarget(practice_id), what="practice")
    found = failed_messages(session, practice_id=practice_id, limit=limit)
    refs: list[tuple[ObjectKind, UUID]] = []
    for message in found:
        refs.append((ObjectKind.NOTIFICATION, message.message_id))
        if message.appointment_id is not None:
            refs.append((ObjectKind.APPOINTMENT, message.appointment_id))
        if message.patient_id is not None:
            refs.append((ObjectKind.PATIENT, message.patient_id))
    record(
        session,
        at=now,
        action=AuditAction.OUTBOX_FAILED_LISTED,
        principal=principal,
        practice_id=practice_id,
        object_kind="notification_list",
        object_id=None,
        objects=refs,
    )
    return found


def failed_account_mail(session: Session, *, limit: int = 100) -> list[FailedAccountMail]:
    statement = (
        select(AccountMail)
        .where(AccountMail.status == "failed")
        .order_by(AccountMail.created_at.desc())
        .limit(limit)
    )
    return [
        FailedAccountMail(
            mail_id=row.mail_id,
            kind=row.kind,
            attempts=row.attempts,
            last_error=row.last_error,
            created_at=row.created_at,
        )
        for row in session.scalars(statement)
    ]
