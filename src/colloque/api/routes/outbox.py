"""HTTP routes of a practice's outbox (practice admins only): its failed messages, and the
mass-change breaker's pauses to release or discard."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query

from colloque.api.deps import DB, ClockDep, CurrentPrincipal
from colloque.api.schemas import Out
from colloque.delivery.pauses import PauseView, do_discard_pause, do_release_pause, list_pauses
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
    clock: ClockDep,
    principal: CurrentPrincipal,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[FailedMessageOut]:
    with db.write() as session:
        failed = list_failed_messages(
            session, now=clock.now(), principal=principal, practice_id=practice_id, limit=limit
        )
    return [FailedMessageOut.of(message) for message in failed]


class PauseOut(Out):
    pause_id: UUID
    #: The account whose changes tripped the breaker; null when the practice as a whole did.
    principal_account_id: UUID | None
    #: ``open`` (its messages wait), ``released`` or ``discarded``.
    status: str
    tripped_at: datetime
    #: Messages waiting now (open pauses), and of them the cancellations and the moves.
    held: int
    held_cancellations: int
    held_moves: int
    #: When the practice's admins were mailed about it (null until the worker's next round).
    alerted_at: datetime | None
    resolved_at: datetime | None
    resolved_by: UUID | None
    #: How many messages the release let go or the discard dropped.
    resolved_count: int | None

    @classmethod
    def of(cls, pause: PauseView) -> PauseOut:
        return cls(
            pause_id=pause.pause_id,
            principal_account_id=pause.principal_account_id,
            status=pause.status,
            tripped_at=pause.tripped_at,
            held=pause.held,
            held_cancellations=pause.held_cancellations,
            held_moves=pause.held_moves,
            alerted_at=pause.alerted_at,
            resolved_at=pause.resolved_at,
            resolved_by=pause.resolved_by,
            resolved_count=pause.resolved_count,
        )


@router.get(
    "/practices/{practice_id}/outbox/pauses",
    response_model=list[PauseOut],
    summary="The mass-change breaker's pauses of the practice, newest first",
    description=(
        "When more cancellations or moves than the limit come from the practice, or from one "
        "account, in the window, their messages to patients are held. Practice admins list the "
        "pauses with how many messages wait (``all=true``: the resolved ones too), then release "
        "or discard them."
    ),
)
def list_outbox_pauses(
    practice_id: UUID,
    db: DB,
    clock: ClockDep,
    principal: CurrentPrincipal,
    include_resolved: Annotated[
        bool, Query(alias="all", description="Include released and discarded pauses.")
    ] = False,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[PauseOut]:
    with db.write() as session:
        found = list_pauses(
            session,
            now=clock.now(),
            principal=principal,
            practice_id=practice_id,
            only_open=not include_resolved,
            limit=limit,
        )
    return [PauseOut.of(pause) for pause in found]


@router.post(
    "/practices/{practice_id}/outbox/pauses/{pause_id}/release",
    response_model=PauseOut,
    summary="Send the messages a pause holds",
    description=(
        "The held messages become due and the worker sends them; each is checked again then "
        "(an appointment that has begun meanwhile is not told). 409 when the pause was already "
        "released or discarded."
    ),
    responses={409: {"description": "The pause was already released or discarded"}},
)
def release_outbox_pause(
    practice_id: UUID, pause_id: UUID, db: DB, clock: ClockDep, principal: CurrentPrincipal
) -> PauseOut:
    with db.write() as session:
        pause = do_release_pause(
            session,
            now=clock.now(),
            principal=principal,
            practice_id=practice_id,
            pause_id=pause_id,
        )
    return PauseOut.of(pause)


@router.post(
    "/practices/{practice_id}/outbox/pauses/{pause_id}/discard",
    response_model=PauseOut,
    summary="Never send the messages a pause holds",
    description=(
        "The held messages are marked failed (``discarded``) and never sent. 409 when the pause "
        "was already released or discarded."
    ),
    responses={409: {"description": "The pause was already released or discarded"}},
)
def discard_outbox_pause(
    practice_id: UUID, pause_id: UUID, db: DB, clock: ClockDep, principal: CurrentPrincipal
) -> PauseOut:
    with db.write() as session:
        pause = do_discard_pause(
            session,
            now=clock.now(),
            principal=principal,
            practice_id=practice_id,
            pause_id=pause_id,
        )
    return PauseOut.of(pause)
