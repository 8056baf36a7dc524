"""The answers of the appointment routes (``api/routes/booking.py``): an appointment as its
reader may see it, with its patient and its sealed reason's wraps."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from uuid import UUID

from pydantic import Field

from colloque.api.schemas import B64, Out
from colloque.booking import access as reading
from colloque.booking.rules import CancelReason, Source, Status
from colloque.booking.versions import appointment_version


class PatientSummary(Out):
    patient_id: UUID
    first_name: str
    last_name: str
    birth_date: date | None
    holder_account_id: UUID | None = Field(
        description="the account that holds the patient's record (none for a patient the practice"
        " registered without an account): who may have sealed an online booking's reason"
    )


class ItemKeyWrapOut(Out):
    recipient_kind: str
    recipient_id: UUID
    epoch: int
    wrap: B64


class SealedReasonOut(Out):
    """The visit reason and visit type, sealed; ``wraps`` are the ones this reader can open."""

    item_id: UUID
    envelope: B64
    wraps: list[ItemKeyWrapOut]


class AppointmentOut(Out):
    appointment_id: UUID
    practice_id: UUID
    practitioner_id: UUID
    duration_minutes: int
    reminders_wanted: bool
    sealed_reason: SealedReasonOut | None
    patient: PatientSummary
    booked_by_account_id: UUID | None
    starts_at: datetime
    ends_at: datetime
    status: Status
    source: Source
    #: A practice member forced this time outside the opening hours, and confirmed so.
    outside_hours: bool
    cancel_reason: CancelReason | None
    hold_expires_at: datetime | None
    created_at: datetime
    updated_at: datetime
    version: str = Field(
        description="changes with every change to the appointment; send it as `If-Match` to cancel,"
        " move or mark it only if nobody changed it since (412 otherwise)"
    )

    @classmethod
    def of(cls, view: reading.AppointmentView) -> AppointmentOut:
        appointment, reason = view.appointment, view.reason
        return cls(
            appointment_id=appointment.appointment_id,
            practice_id=appointment.practice_id,
            practitioner_id=appointment.practitioner_id,
            duration_minutes=(appointment.ends_at - appointment.starts_at) // timedelta(minutes=1),
            reminders_wanted=appointment.reminders_wanted,
            sealed_reason=None
            if reason is None
            else SealedReasonOut(
                item_id=reason.item_id,
                envelope=reason.envelope,
                wraps=[ItemKeyWrapOut.model_validate(w) for w in reason.wraps],
            ),
            patient=PatientSummary.model_validate(view.patient),
            booked_by_account_id=appointment.booked_by_account_id,
            starts_at=view.local(appointment.starts_at),
            ends_at=view.local(appointment.ends_at),
            status=Status(appointment.status),
            source=Source(appointment.source),
            outside_hours=appointment.outside_hours,
            cancel_reason=CancelReason(appointment.cancel_reason)
            if appointment.cancel_reason
            else None,
            hold_expires_at=None
            if appointment.hold_expires_at is None
            else view.local(appointment.hold_expires_at),
            created_at=view.local(appointment.created_at),
            updated_at=view.local(appointment.updated_at),
            version=appointment_version(appointment),
        )


class EventOut(Out):
    at: datetime
    kind: str
    actor_role: str
    previous_starts_at: datetime | None
    new_starts_at: datetime | None
    reason: str | None
    outside_hours: bool


class AppointmentDetailOut(AppointmentOut):
    history: list[EventOut]
