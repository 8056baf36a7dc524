"""Queueing notifications in the transactional outbox."""

from __future__ import annotations

import enum
from datetime import datetime
from uuid import UUID

from sqlalchemy.orm import Session

from colloque.ids import new_id
from colloque.notifications.models import OutboxMessage


class Template(enum.StrEnum):
    APPOINTMENT_CONFIRMED = "appointment_confirmed"
    APPOINTMENT_CANCELLED = "appointment_cancelled"
    APPOINTMENT_MOVED = "appointment_moved"
    WAITLIST_OFFER = "waitlist_offer"
    #: "You have a new message from <practice>": never the message, which the server cannot read.
    MESSAGE_RECEIVED = "message_received"


def enqueue(
    session: Session,
    *,
    at: datetime,
    practice_id: UUID,
    template: Template,
    appointment_id: UUID | None,
    recipient_account_id: UUID | None,
) -> None:
    """Queue a message for the account that manages the patient, never for a guessed address."""
    if recipient_account_id is None:
        return
    session.add(
        OutboxMessage(
            practice_id=practice_id,
            message_id=new_id(),
            created_at=at,
            template=template.value,
            appointment_id=appointment_id,
            recipient_account_id=recipient_account_id,
            status="pending",
            attempts=0,
        )
    )
