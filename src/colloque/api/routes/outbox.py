"""HTTP route of a practice's failed messages (practice admins only)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query

from colloque.api.deps import DB, CurrentPrincipal
from colloque.api.schemas import Out
from colloque.delivery.queries import FailedMessage, list_failed_messages

router = APIRouter(prefix="/api/v1", tags=["notifications"])


class FailedMessageOut(Out):
    message_id: UUID
    template: str
    appointment_id: UUID | None
    attempts: int
    #: A category (``no_contact``, ``smtp_refused``, ``misaddressed``...), never a server's reply.
    last_error: str | None
    created_at: datetime

    @classmethod
    def of(cls, message: FailedMessage) -> FailedMessageOut:
        return cls(
            message_id=message.message_id,
            template=message.template,
            appointment_id=message.appointment_id,
            attempts=message.attempts,
            last_error=message.last_error,
            created_at=message.created_at,
        )


@router.get(
    "/practices/{practice_id}/outbox/failed",
    response_model=list[FailedMessageOut],
    summary="The practice's messages that could not be sent, newest first",
    description=(
        "Practice admins list the messages about their appointments given up after their "
        "retries: which appointment, which message, why (a category). The content and the "
        "recipient are not stored: they are rendered only when sent."
    ),
)
def list_failed(
    practice_id: UUID,
    db: DB,
    principal: CurrentPrincipal,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[FailedMessageOut]:
    with db.read() as session:
        failed = list_failed_messages(
            session, principal=principal, practice_id=practice_id, limit=limit
        )
    return [FailedMessageOut.of(message) for message in failed]
