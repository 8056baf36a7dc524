"""HTTP routes of appointments."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Header, Query, Response, status
from pydantic import Field

from colloque.accounts.confirmations import count_change
from colloque.api.deps import (
    DB,
    AccountsConfigDep,
    ClockDep,
    CurrentPrincipal,
    CurrentSession,
    PendingPrincipal,
)
from colloque.api.limits import SEALED_BODY_LIMIT, body_limit
from colloque.api.routes.agenda_settings import IfMatchHeader, tag
from colloque.api.routes.booking_schemas import AppointmentDetailOut, AppointmentOut, EventOut
from colloque.api.schemas import B64, Body, Instant, InstantOrDay
from colloque.booking import access as reading
from colloque.booking import changes, services
from colloque.booking.reasons import SealedReason
from colloque.booking.rules import CancelReason, Source, Status
from colloque.booking.versions import appointment_version

router = APIRouter(prefix="/api/v1", tags=["appointments"])

_ETAG = {"headers": {"ETag": {"description": "The version", "schema": {"type": "string"}}}}
STALE: dict[int | str, dict[str, Any]] = {
    412: {"description": "The appointment changed since the `If-Match` version: read it again"}
}
IF_MATCH = (
    " With `If-Match` (the `version` you read; the practice agenda always sends it), 412 when the"
    " appointment changed since; without it the change goes ahead."
)


def based_on(header: str | None) -> str | None:
    """The version an `If-Match` or `If-None-Match` header names, quoted or weak or not."""
    if header is None or not header.strip():
        return None
    return header.strip().removeprefix("W/").strip('"')


#: A sealed reason: header, at most 64 KiB of padded text, tag and signature.
MAX_REASON_ENVELOPE = 70_000


class SealedReasonIn(Body):
    envelope: Annotated[B64, Field(min_length=64, max_length=MAX_REASON_ENVELOPE)]
    wraps: list[Annotated[B64, Field(min_length=32, max_length=512)]] = Field(
        min_length=1, max_length=4
    )


class _BookingFields(Body):
    practitioner_id: UUID
    patient_id: UUID = Field(description="the account holder's own patient record or a relative's")
    starts_at: Instant
    duration_minutes: int = Field(
        ge=5, le=480, description="the length of the visit type chosen; the type itself is sealed"
    )
    appointment_id: UUID | None = Field(
        default=None, description="random (UUIDv4), chosen by the client that sealed the reason"
    )
    reminders_wanted: bool = True
    sealed_reason: SealedReasonIn | None = Field(
        default=None,
        description="the visit reason and visit type, sealed for the patient and the practice",
    )

    def request(self, practice_id: UUID) -> services.BookingRequest:
        reason = self.sealed_reason
        return services.BookingRequest(
            practice_id=practice_id,
            practitioner_id=self.practitioner_id,
            patient_id=self.patient_id,
            starts_at=self.starts_at,
            duration_minutes=self.duration_minutes,
            appointment_id=self.appointment_id,
            reminders_wanted=self.reminders_wanted,
            sealed_reason=None
            if reason is None
            else SealedReason(envelope=reason.envelope, wraps=tuple(reason.wraps)),
        )


class BookingIn(_BookingFields):
    practice_id: UUID


#: The practice's explicit confirmation of an extra appointment outside the opening hours.
OUTSIDE_HOURS_CONFIRMED = Field(
    default=False,
    description="practice staff only: book (or move) at a time the agenda is closed, an extra "
    "appointment recorded as such (`outside_hours` in the answer and its history); without it, "
    "such a time is a 422 `rule: closed`. Another appointment's time is still a 409.",
)


@router.post(
    "/appointments",
    response_model=AppointmentOut,
    status_code=status.HTTP_201_CREATED,
    summary="Book online, for yourself or a relative",
    responses={409: {"description": "The slot was just taken"}},
    description=(
        "A patient books for themselves or a relative they hold; the reason is sealed on the "
        "device. 409 when the slot was just taken, 422 when a booking rule is not met (`rule` names"
        " it) or the `appointment_id` cannot be used (not random, or already used: the same "
        "answer), 404 for an unknown practice, practitioner or patient."
    ),
)
@body_limit(SEALED_BODY_LIMIT)
def book_online(
    body: BookingIn, db: DB, clock: ClockDep, pending: PendingPrincipal
) -> AppointmentOut:
    now = clock.now()
    with db.write() as session:
        principal = pending.resolve(session, now=now)
        appointment = services.do_book_appointment(
            session,
            now=now,
            principal=principal,
            request=body.request(body.practice_id),
            source=Source.ONLINE,
        )
        return AppointmentOut.of(
            reading.view_appointment(
                session, principal=principal, appointment=appointment, as_practice=False
            )
        )


class PracticeBookingIn(_BookingFields):
    source: Source = Source.PRACTICE
    outside_hours_confirmed: bool = OUTSIDE_HOURS_CONFIRMED


@router.post(
    "/practices/{practice_id}/appointments",
    response_model=AppointmentOut,
    status_code=status.HTTP_201_CREATED,
    summary="Book on behalf of a patient (phone, desk, integration)",
    responses={409: {"description": "The slot was just taken"}},
    description=(
        "Practice staff book for a patient of the practice registry (phone, desk). 409 when the "
        "slot was just taken, 422 when a booking rule is not met or the `appointment_id` cannot be "
        "used. Outside the opening hours, only with `outside_hours_confirmed`."
    ),
)
@body_limit(SEALED_BODY_LIMIT)
def book_by_practice(
    practice_id: UUID, body: PracticeBookingIn, db: DB, clock: ClockDep, pending: PendingPrincipal
) -> AppointmentOut:
    source = (
        body.source if body.source in (Source.PRACTICE, Source.INTEGRATION) else Source.PRACTICE
    )
    now = clock.now()
    with db.write() as session:
        principal = pending.resolve(session, now=now)
        appointment = services.do_book_appointment(
            session,
            now=now,
            principal=principal,
            request=replace(
                body.request(practice_id), outside_hours_confirmed=body.outside_hours_confirmed
            ),
            source=source,
        )
        return AppointmentOut.of(
            reading.view_appointment(
                session, principal=principal, appointment=appointment, as_practice=True
            )
        )


@router.get(
    "/me/appointments",
    response_model=list[AppointmentOut],
    description=(
        "The signed-in account's appointments and those of the relatives it holds, as this reader "
        "may see them."
    ),
)
def my_appointments(
    db: DB, clock: ClockDep, principal: CurrentPrincipal, upcoming: bool = False
) -> list[AppointmentOut]:
    with db.write() as session:
        views = reading.list_my_appointments(
            session, now=clock.now(), principal=principal, upcoming_only=upcoming
        )
        return [AppointmentOut.of(view) for view in views]


@router.get(
    "/practices/{practice_id}/appointments/{appointment_id}",
    response_model=AppointmentDetailOut,
    responses={200: _ETAG},
    description=(
        "One appointment, as the reader may see it (the patient who holds it, or practice staff). "
        "404 when it is not there or not yours. The `ETag` is its `version`."
    ),
)
def get_appointment(
    practice_id: UUID,
    appointment_id: UUID,
    db: DB,
    clock: ClockDep,
    principal: CurrentPrincipal,
    response: Response,
) -> AppointmentDetailOut:
    with db.write() as session:
        view = reading.get_appointment(
            session,
            now=clock.now(),
            principal=principal,
            practice_id=practice_id,
            appointment_id=appointment_id,
        )
        tag(response, appointment_version(view.appointment))
        return AppointmentDetailOut(
            **AppointmentOut.of(view).model_dump(),
            history=[EventOut.model_validate(event) for event in view.history],
        )


#: Cancellations and moves by practice staff are counted per credential (docs/accounts.md).
MASS_CHANGES = (
    " Past 20 cancellations or moves by one session in 10 minutes (COLLOQUE_CONFIRM_CHANGES_*),"
    " a member gets a 403 `mass-change-unconfirmed` with the `count`: after"
    " `POST /api/v1/auth/reauth` the same request goes through."
)


class CancelIn(Body):
    reason: CancelReason


@router.post(
    "/practices/{practice_id}/appointments/{appointment_id}/cancel",
    response_model=AppointmentOut,
    description=(
        "The patient or practice staff cancel an appointment with a reason code. 422 past the cut-"
        "off or for a reason the caller may not give." + MASS_CHANGES + IF_MATCH
    ),
    responses=STALE,
)
def cancel(
    practice_id: UUID,
    appointment_id: UUID,
    body: CancelIn,
    db: DB,
    clock: ClockDep,
    resolved: CurrentSession,
    config: AccountsConfigDep,
    if_match: IfMatchHeader = None,
) -> AppointmentOut:
    with db.write() as session:
        count_change(session, now=clock.now(), resolved=resolved, config=config)
        changed = changes.do_cancel_appointment(
            session,
            now=clock.now(),
            principal=resolved.principal,
            practice_id=practice_id,
            appointment_id=appointment_id,
            reason=body.reason,
            expected_version=based_on(if_match),
        )
        return AppointmentOut.of(changed)


class RescheduleIn(Body):
    starts_at: Instant
    outside_hours_confirmed: bool = OUTSIDE_HOURS_CONFIRMED
    practitioner_id: UUID | None = Field(
        default=None,
        description="practice staff only: another practitioner of the practice, whose agenda"
        " offers a visit type of the same length",
    )


@router.post(
    "/practices/{practice_id}/appointments/{appointment_id}/reschedule",
    response_model=AppointmentOut,
    responses={409: {"description": "The new slot was just taken"}, **STALE},
    description=(
        "The patient or practice staff move an appointment to a new slot in one step. 409 when the "
        "new slot was just taken, 422 when a rule is not met. Practice staff may move it outside "
        "the opening hours with `outside_hours_confirmed`; a patient who sends it gets a 422."
        + MASS_CHANGES
        + IF_MATCH
    ),
)
def reschedule(
    practice_id: UUID,
    appointment_id: UUID,
    body: RescheduleIn,
    db: DB,
    clock: ClockDep,
    resolved: CurrentSession,
    config: AccountsConfigDep,
    if_match: IfMatchHeader = None,
) -> AppointmentOut:
    with db.write() as session:
        count_change(session, now=clock.now(), resolved=resolved, config=config)
        changed = changes.do_reschedule_appointment(
            session,
            now=clock.now(),
            principal=resolved.principal,
            practice_id=practice_id,
            appointment_id=appointment_id,
            new_starts_at=body.starts_at,
            outside_hours_confirmed=body.outside_hours_confirmed,
            expected_version=based_on(if_match),
            new_practitioner_id=body.practitioner_id,
        )
        return AppointmentOut.of(changed)


class MarkIn(Body):
    outcome: Annotated[Status, Field(description="done or no_show")]


@router.post(
    "/practices/{practice_id}/appointments/{appointment_id}/mark",
    response_model=AppointmentOut,
    description=(
        "Practice staff mark a past appointment done or no-show. 422 for an appointment not in the "
        "past or already marked." + IF_MATCH
    ),
    responses=STALE,
)
def mark(
    practice_id: UUID,
    appointment_id: UUID,
    body: MarkIn,
    db: DB,
    clock: ClockDep,
    principal: CurrentPrincipal,
    if_match: IfMatchHeader = None,
) -> AppointmentOut:
    with db.write() as session:
        changed = changes.do_mark_appointment(
            session,
            now=clock.now(),
            principal=principal,
            practice_id=practice_id,
            appointment_id=appointment_id,
            outcome=body.outcome,
            expected_version=based_on(if_match),
        )
        return AppointmentOut.of(changed)


@router.get(
    "/practices/{practice_id}/agenda",
    response_model=list[AppointmentOut],
    responses={
        200: _ETAG,
        304: {"description": "Nothing changed in the window since the `If-None-Match` version"},
    },
    description=(
        "Practice staff (or an operator with a grant) read the agenda of a window. `from` and "
        "`until` are instants with their offset, or plain local days of the practice "
        "(`from=2027-01-04&until=2027-01-10`: `from` a day's first instant in the practice's time "
        "zone, `until` the end of its day); at most 31 days, within ten years of now. Every "
        "instant of the answer carries the practice's UTC offset at that instant "
        "(`2027-01-04T09:00:00+01:00`); the zone's name is the practice's `timezone`. 403 for a "
        "role that may not, 404 when the practice is not yours. The `ETag` is the window's "
        "version: poll with it as `If-None-Match` and get an empty 304 while nothing changed."
    ),
)
def practice_agenda(
    practice_id: UUID,
    db: DB,
    clock: ClockDep,
    principal: CurrentPrincipal,
    start: Annotated[InstantOrDay, Query(alias="from")],
    until: InstantOrDay,
    response: Response,
    practitioner_id: UUID | None = None,
    if_none_match: Annotated[
        str | None, Header(description="The window's version (ETag) you hold, to get 304")
    ] = None,
) -> Response | list[AppointmentOut]:
    with db.write() as session:
        window = reading.read_practice_agenda(
            session,
            now=clock.now(),
            principal=principal,
            practice_id=practice_id,
            start=start,
            until=until,
            practitioner_id=practitioner_id,
            known_version=based_on(if_none_match),
        )
        if window.views is None:
            return Response(
                status_code=status.HTTP_304_NOT_MODIFIED,
                headers={"ETag": f'"{window.version}"', "Cache-Control": "no-store"},
            )
        tag(response, window.version)
        return [AppointmentOut.of(view) for view in window.views]
