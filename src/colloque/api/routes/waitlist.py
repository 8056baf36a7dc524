"""HTTP routes of the waitlist."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from fastapi import APIRouter, status
from pydantic import Field

from colloque.api.deps import DB, ClockDep, CurrentPrincipal
from colloque.api.limits import SEALED_BODY_LIMIT, body_limit
from colloque.api.routes.booking import SealedReasonIn
from colloque.api.schemas import Body, Day, Out
from colloque.booking.waitlist import offers, services
from colloque.booking.waitlist.models import WaitlistEntry, WaitlistOffer

router = APIRouter(prefix="/api/v1", tags=["waitlist"])


class WaitlistIn(Body):
    practice_id: UUID
    practitioner_id: UUID
    duration_minutes: int = Field(ge=5, le=480, description="the length of the visit wanted")
    patient_id: UUID
    first_day: Day
    last_day: Day


class OfferOut(Out):
    offer_id: UUID
    appointment_id: UUID
    offered_at: datetime
    expires_at: datetime
    outcome: str


class WaitlistEntryOut(Out):
    entry_id: UUID
    practice_id: UUID
    practitioner_id: UUID
    duration_minutes: int
    patient_id: UUID
    first_day: date
    last_day: date
    status: str
    created_at: datetime
    pending_offer: OfferOut | None = None

    @classmethod
    def of(cls, entry: WaitlistEntry, offer: WaitlistOffer | None) -> WaitlistEntryOut:
        out = cls.model_validate(entry)
        out.pending_offer = OfferOut.model_validate(offer) if offer is not None else None
        return out


@router.post(
    "/waitlist",
    response_model=WaitlistEntryOut,
    status_code=status.HTTP_201_CREATED,
    description=(
        "A patient asks to be offered freed time with a practitioner between two dates. 404 for an "
        "unknown practice, practitioner or patient, 422 for an invalid window, 409 (with "
        "`existing_id`) when the patient already waits on this very list."
    ),
    responses={409: {"description": "The patient already waits on this list"}},
)
def join(
    body: WaitlistIn, db: DB, clock: ClockDep, principal: CurrentPrincipal
) -> WaitlistEntryOut:
    with db.write() as session:
        entry = services.do_join_waitlist(
            session, now=clock.now(), principal=principal, **body.model_dump()
        )
        return WaitlistEntryOut.of(entry, None)


@router.get(
    "/me/waitlist",
    response_model=list[WaitlistEntryOut],
    description="The signed-in account's waitlist entries and their pending offers.",
)
def mine(db: DB, clock: ClockDep, principal: CurrentPrincipal) -> list[WaitlistEntryOut]:
    with db.write() as session:
        return [
            WaitlistEntryOut.of(e, o)
            for e, o in services.list_my_waitlist(session, now=clock.now(), principal=principal)
        ]


@router.delete(
    "/practices/{practice_id}/waitlist/{entry_id}",
    response_model=WaitlistEntryOut,
    description=(
        "The patient leaves the waitlist; a held offer goes to the next in line. 404 when the entry"
        " is not there or not yours."
    ),
)
def leave(
    practice_id: UUID, entry_id: UUID, db: DB, clock: ClockDep, principal: CurrentPrincipal
) -> WaitlistEntryOut:
    with db.write() as session:
        entry = services.do_leave_waitlist(
            session,
            now=clock.now(),
            principal=principal,
            practice_id=practice_id,
            entry_id=entry_id,
        )
        return WaitlistEntryOut.of(entry, None)


class DecisionIn(Body):
    accept: bool
    sealed_reason: SealedReasonIn | None = Field(
        default=None,
        description="on accepting: the visit reason sealed for the held appointment's id",
    )
    reminders_wanted: bool = Field(
        default=True,
        description="on accepting: the reminder policy of the visit type the patient seals (the "
        "server never learns the type)",
    )


@router.post(
    "/practices/{practice_id}/waitlist-offers/{offer_id}/decision",
    response_model=OfferOut,
    description=(
        "The patient accepts or declines a held offer. 404 when it is not there or not yours, 422 "
        "when it has lapsed."
    ),
)
@body_limit(SEALED_BODY_LIMIT)
def decide(
    practice_id: UUID,
    offer_id: UUID,
    body: DecisionIn,
    db: DB,
    clock: ClockDep,
    principal: CurrentPrincipal,
) -> WaitlistOffer:
    with db.write() as session:
        decision = offers.do_decide_offer(
            session,
            now=clock.now(),
            principal=principal,
            practice_id=practice_id,
            offer_id=offer_id,
            accept=body.accept,
            reason_envelope=body.sealed_reason.envelope if body.sealed_reason else None,
            reason_wraps=body.sealed_reason.wraps if body.sealed_reason else (),
            reminders_wanted=body.reminders_wanted,
        )
        return decision.offer
