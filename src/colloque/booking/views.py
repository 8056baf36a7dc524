"""HTTP routes of appointments."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, status
from pydantic import AwareDatetime, Field
from sqlalchemy.orm import Session

from colloque.api.deps import DB, ClockDep, CurrentPrincipal
from colloque.api.schemas import Body, Out
from colloque.booking import services
from colloque.booking.models import Appointment
from colloque.booking.rules import CancelReason, Source, Status
from colloque.patients.models import Patient

router = APIRouter(prefix="/api/v1", tags=["appointments"])


class PatientSummary(Out):
    patient_id: UUID
    first_name: str
    last_name: str
    birth_date: date


class AppointmentOut(Out):
    appointment_id: UUID
    practice_id: UUID
    practitioner_id: UUID
    visit_type_id: UUID
    patient: PatientSummary
    booked_by_account_id: UUID | None
    starts_at: datetime
    ends_at: datetime
    status: Status
    source: Source
    cancel_reason: CancelReason | None
    hold_expires_at: datetime | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, appointment: Appointment, patient: Patient) -> AppointmentOut:
        return cls(
            appointment_id=appointment.appointment_id,
            practice_id=appointment.practice_id,
            practitioner_id=appointment.practitioner_id,
            visit_type_id=appointment.visit_type_id,
            patient=PatientSummary.model_validate(patient),
            booked_by_account_id=appointment.booked_by_account_id,
            starts_at=appointment.starts_at,
            ends_at=appointment.ends_at,
            status=Status(appointment.status),
            source=Source(appointment.source),
            cancel_reason=CancelReason(appointment.cancel_reason)
            if appointment.cancel_reason
            else None,
            hold_expires_at=appointment.hold_expires_at,
            created_at=appointment.created_at,
            updated_at=appointment.updated_at,
        )


class EventOut(Out):
    at: datetime
    kind: str
    actor_role: str
    previous_starts_at: datetime | None
    new_starts_at: datetime | None
    reason: str | None


class AppointmentDetailOut(AppointmentOut):
    history: list[EventOut]


class BookingIn(Body):
    practice_id: UUID
    practitioner_id: UUID
    visit_type_id: UUID
    patient_id: UUID = Field(description="the account holder's own patient record or a relative's")
    starts_at: AwareDatetime


def _request(body: BookingIn) -> services.BookingRequest:
    return services.BookingRequest(
        practice_id=body.practice_id,
        practitioner_id=body.practitioner_id,
        visit_type_id=body.visit_type_id,
        patient_id=body.patient_id,
        starts_at=body.starts_at,
    )


@router.post(
    "/appointments",
    response_model=AppointmentOut,
    status_code=status.HTTP_201_CREATED,
    summary="Book online, for yourself or a relative",
    responses={409: {"description": "The slot was just taken"}},
)
def book_online(
    body: BookingIn, db: DB, clock: ClockDep, principal: CurrentPrincipal
) -> AppointmentOut:
    with db.write() as session:
        appointment = services.do_book_appointment(
            session,
            now=clock.now(),
            principal=principal,
            request=_request(body),
            source=Source.ONLINE,
        )
        patient = session.get(Patient, appointment.patient_id)
        assert patient is not None
        return AppointmentOut.of(appointment, patient)


class PracticeBookingIn(Body):
    practitioner_id: UUID
    visit_type_id: UUID
    patient_id: UUID
    starts_at: AwareDatetime
    source: Source = Source.PRACTICE


@router.post(
    "/practices/{practice_id}/appointments",
    response_model=AppointmentOut,
    status_code=status.HTTP_201_CREATED,
    summary="Book on behalf of a patient (phone, desk, integration)",
    responses={409: {"description": "The slot was just taken"}},
)
def book_by_practice(
    practice_id: UUID, body: PracticeBookingIn, db: DB, clock: ClockDep, principal: CurrentPrincipal
) -> AppointmentOut:
    source = (
        body.source if body.source in (Source.PRACTICE, Source.INTEGRATION) else Source.PRACTICE
    )
    with db.write() as session:
        appointment = services.do_book_appointment(
            session,
            now=clock.now(),
            principal=principal,
            request=services.BookingRequest(
                practice_id=practice_id,
                practitioner_id=body.practitioner_id,
                visit_type_id=body.visit_type_id,
                patient_id=body.patient_id,
                starts_at=body.starts_at,
            ),
            source=source,
        )
        patient = session.get(Patient, appointment.patient_id)
        assert patient is not None
        return AppointmentOut.of(appointment, patient)


@router.get("/me/appointments", response_model=list[AppointmentOut])
def my_appointments(
    db: DB, clock: ClockDep, principal: CurrentPrincipal, upcoming: bool = False
) -> list[AppointmentOut]:
    with db.write() as session:
        rows = services.list_my_appointments(
            session, now=clock.now(), principal=principal, upcoming_only=upcoming
        )
        return [AppointmentOut.of(r.appointment, r.patient) for r in rows]


@router.get(
    "/practices/{practice_id}/appointments/{appointment_id}", response_model=AppointmentDetailOut
)
def get_appointment(
    practice_id: UUID, appointment_id: UUID, db: DB, clock: ClockDep, principal: CurrentPrincipal
) -> AppointmentDetailOut:
    with db.write() as session:
        access = services.get_appointment(
            session,
            now=clock.now(),
            principal=principal,
            practice_id=practice_id,
            appointment_id=appointment_id,
        )
        history = services.list_history(
            session, practice_id=practice_id, appointment_id=appointment_id
        )
        base = AppointmentOut.of(access.appointment, access.patient)
        return AppointmentDetailOut(
            **base.model_dump(), history=[EventOut.model_validate(event) for event in history]
        )


class CancelIn(Body):
    reason: CancelReason


@router.post(
    "/practices/{practice_id}/appointments/{appointment_id}/cancel", response_model=AppointmentOut
)
def cancel(
    practice_id: UUID,
    appointment_id: UUID,
    body: CancelIn,
    db: DB,
    clock: ClockDep,
    principal: CurrentPrincipal,
) -> AppointmentOut:
    with db.write() as session:
        appointment = services.do_cancel_appointment(
            session,
            now=clock.now(),
            principal=principal,
            practice_id=practice_id,
            appointment_id=appointment_id,
            reason=body.reason,
        )
        return _out(session, appointment)


class RescheduleIn(Body):
    starts_at: AwareDatetime


@router.post(
    "/practices/{practice_id}/appointments/{appointment_id}/reschedule",
    response_model=AppointmentOut,
    responses={409: {"description": "The new slot was just taken"}},
)
def reschedule(
    practice_id: UUID,
    appointment_id: UUID,
    body: RescheduleIn,
    db: DB,
    clock: ClockDep,
    principal: CurrentPrincipal,
) -> AppointmentOut:
    with db.write() as session:
        appointment = services.do_reschedule_appointment(
            session,
            now=clock.now(),
            principal=principal,
            practice_id=practice_id,
            appointment_id=appointment_id,
            new_starts_at=body.starts_at,
        )
        return _out(session, appointment)


class MarkIn(Body):
    outcome: Annotated[Status, Field(description="done or no_show")]


@router.post(
    "/practices/{practice_id}/appointments/{appointment_id}/mark", response_model=AppointmentOut
)
def mark(
    practice_id: UUID,
    appointment_id: UUID,
    body: MarkIn,
    db: DB,
    clock: ClockDep,
    principal: CurrentPrincipal,
) -> AppointmentOut:
    with db.write() as session:
        appointment = services.do_mark_appointment(
            session,
            now=clock.now(),
            principal=principal,
            practice_id=practice_id,
            appointment_id=appointment_id,
            outcome=body.outcome,
        )
        return _out(session, appointment)


@router.get("/practices/{practice_id}/agenda", response_model=list[AppointmentOut])
def practice_agenda(
    practice_id: UUID,
    db: DB,
    clock: ClockDep,
    principal: CurrentPrincipal,
    start: Annotated[AwareDatetime, Query(alias="from")],
    until: AwareDatetime,
    practitioner_id: UUID | None = None,
) -> list[AppointmentOut]:
    with db.write() as session:
        rows = services.list_practice_agenda(
            session,
            now=clock.now(),
            principal=principal,
            practice_id=practice_id,
            start=start,
            until=until,
            practitioner_id=practitioner_id,
        )
        return [AppointmentOut.of(r.appointment, r.patient) for r in rows]


def _out(session: Session, appointment: Appointment) -> AppointmentOut:
    patient = session.get(Patient, appointment.patient_id)
    assert patient is not None
    return AppointmentOut.of(appointment, patient)
