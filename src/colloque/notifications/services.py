"""Queueing notifications in the transactional outbox."""

from __future__ import annotations

import enum
from datetime import datetime
from uuid import UUID

from sqlalchemy.orm import Session

from colloque.ids import new_id
from colloque.notifications.breaker import hold_if_tripped
from colloque.notifications.models import OutboxMessage


class Template(enum.StrEnum):
    APPOINTMENT_CONFIRMED = "appointment_confirmed"
    APPOINTMENT_CANCELLED = "appointment_cancelled"
    APPOINTMENT_MOVED = "appointment_moved"
    #: Reminders, queued by the planner (``delivery.reminders``) when their moment comes.
    #: The practice marked the appointment a no-show: a word to book again and to cancel ahead.
    NO_SHOW_FOLLOW_UP = "no_show_follow_up"
    REMINDER_WEEK = "reminder_week"
    REMINDER_DAY = "reminder_day"
    REMINDER_SMS = "reminder_sms"
    WAITLIST_OFFER = "waitlist_offer"
    #: The offer lapsed (passed to the next patient); the patient stays on the waitlist.
    WAITLIST_OFFER_EXPIRED = "waitlist_offer_expired"
    #: "You have a new message from <practice>": never the message, which the server cannot read.
    MESSAGE_RECEIVED = "message_received"


def enqueue(
    session: Session,
    *,
    at: datetime,
    practice_id: UUID,
    template: Template,
    patient_id: UUID,
    appointment_id: UUID | None = None,
    event_id: UUID | None = None,
    caused_by: UUID | None = None,
    approved: bool = False,
    due_at: datetime | None = None,
    dedupe_key: str | None = None,
) -> UUID:
    """Queue a message about ``patient_id``, due at once; return its id.

    No recipient is given: the worker finds it from the patient (their holder account, or the
    contact the practice recorded), and for an appointment message checks that the patient is the
    appointment's own. Nothing a caller passes can send a message to someone else.

    ``caused_by`` is the account whose change this announces (None: the system). ``approved``
    means confirmed by a practice admin who was shown how many messages the change makes (an
    absence): such a message is never counted nor held by the mass-change breaker
    (``notifications.breaker``), which may otherwise queue it as ``held``.
    """
    message_id = new_id()
    pause_id = hold_if_tripped(
        session,
        at=at,
        practice_id=practice_id,
        template=template.value,
        caused_by=caused_by,
        approved=approved,
    )
    session.add(
        OutboxMessage(
            practice_id=practice_id,
            message_id=message_id,
            created_at=at,
            template=template.value,
            appointment_id=appointment_id,
            patient_id=patient_id,
            event_id=event_id,
            status="pending" if pause_id is None else "held",
            attempts=0,
            caused_by=caused_by,
            approved=approved,
            pause_id=pause_id,
            due_at=due_at or at,
            dedupe_key=dedupe_key,
        )
    )
    return message_id
