"""HTTP routes of the signed-in account's notification inbox (docs/notifications.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Path, Query

from colloque.api.deps import DB, ClockDep, CurrentPrincipal
from colloque.api.schemas import Out
from colloque.delivery import inbox

router = APIRouter(prefix="/api/v1", tags=["notifications"])


class NotificationOut(Out):
    #: The short code the message names: the same in the mail or SMS and here.
    reference: str
    #: ``appointment_confirmed``, ``waitlist_offer``... or ``account_notice`` (see ``subject``).
    template: str
    channel: str
    #: ``sent``, or ``on_its_way`` (addressed to this account, to be sent again shortly).
    status: inbox.InboxStatus
    created_at: datetime
    sent_at: datetime | None
    #: An account notice's subject line; None for a message about an appointment or a practice.
    subject: str | None
    practice_id: UUID | None
    practice_name: str | None
    #: The practice's time zone, the one the message wrote its times in.
    practice_timezone: str | None
    appointment_id: UUID | None
    appointment_starts_at: datetime | None

    @classmethod
    def of(cls, entry: inbox.InboxEntry) -> NotificationOut:
        return cls(
            reference=entry.reference,
            template=entry.template,
            channel=entry.channel,
            status=entry.status,
            created_at=entry.created_at,
            sent_at=entry.sent_at,
            subject=entry.subject,
            practice_id=entry.practice_id,
            practice_name=entry.practice_name,
            practice_timezone=entry.practice_timezone,
            appointment_id=entry.appointment_id,
            appointment_starts_at=entry.appointment_starts_at,
        )


class NotificationPageOut(Out):
    items: list[NotificationOut]
    #: Pass as ``before`` for the next (older) page; None at the end.
    next_before: str | None


@router.get(
    "/me/notifications",
    response_model=NotificationPageOut,
    summary="The messages sent to this account, newest first",
    description=(
        "Every message Colloque sent to the signed-in account (appointment messages, waitlist "
        "offers, new-message notices, account notices), with the reference each one names, "
        "newest first; ``before`` (the previous page's ``next_before``) pages on. Never the "
        "visit's reason or type. 422 naming ``before`` for a cursor this server did not give."
    ),
)
def my_notifications(
    db: DB,
    clock: ClockDep,
    principal: CurrentPrincipal,
    before: Annotated[str | None, Query(max_length=80)] = None,
    limit: Annotated[int, Query(ge=1, le=inbox.MAX_PAGE)] = 50,
) -> NotificationPageOut:
    # A write transaction: reading personal data writes its audit event.
    with db.write() as session:
        page = inbox.list_inbox(
            session, now=clock.now(), principal=principal, before=before, limit=limit
        )
    return NotificationPageOut(
        items=[NotificationOut.of(entry) for entry in page.entries], next_before=page.next_before
    )


@router.get(
    "/me/notifications/{reference}",
    response_model=NotificationOut,
    summary="Check a message's reference",
    description=(
        "The message of this account that names this reference: a message that names one this "
        "account does not have did not come from Colloque (404, naming ``reference``). 422 "
        "naming ``reference`` for text that is not a reference (8 letters and digits)."
    ),
    responses={404: {"description": "No message of this account names this reference"}},
)
def check_notification(
    reference: Annotated[str, Path(max_length=32)],
    db: DB,
    clock: ClockDep,
    principal: CurrentPrincipal,
) -> NotificationOut:
    with db.write() as session:
        entry = inbox.check_reference(
            session, now=clock.now(), principal=principal, reference=reference
        )
    return NotificationOut.of(entry)
