"""Booking an appointment (changing it: changes.py; reading it: access.py).

Each function checks the principal with the one policy, applies the booking rules, makes the
change with its history event, audit event and outbox message, and leaves the commit to the
caller. On PostgreSQL the exclusion constraints are the last word on overlaps, the agenda's and
the practitioner's busy ledger's (ledger.py): a racing insert that slipped past the check fails
there and becomes the same 409 as a check that caught it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.orm import Session

from colloque.audit.services import AuditAction
from colloque.authorization.policy import Action, PracticeTarget, require
from colloque.booking import ledger, queries
from colloque.booking.access import audit_appointment
from colloque.booking.history import record_event
from colloque.booking.models import Appointment
from colloque.booking.reasons import SealedReason, store_reason
from colloque.booking.rules import (
    Source,
    Status,
    check_anti_hoarding,
    closest_slot_problem,
    fitting_visit_types,
    raise_for_slot_problem,
)
from colloque.errors import (
    InvalidInput,
    Unauthenticated,
    UnusableId,
)
from colloque.ids import is_random, new_id
from colloque.metrics import BookingAction, count_booking_on_commit
from colloque.notifications.services import Template, enqueue
from colloque.patients.registry import get_registered_patient, remember_patient
from colloque.patients.services import reach_held_patient
from colloque.principal import Principal
from colloque.scheduling.domain import VisitTypeInfo, check_horizon
from colloque.scheduling.loading import LoadedAgenda, load_agenda
from colloque.scheduling.slots import check_slot


@dataclass(frozen=True, slots=True)
class BookingRequest:
    practice_id: UUID
    practitioner_id: UUID
    patient_id: UUID
    starts_at: datetime
    duration_minutes: int
    #: Chosen by the client when it seals a reason, whose associated data names the appointment.
    appointment_id: UUID | None = None
    reminders_wanted: bool = True
    sealed_reason: SealedReason | None = None
    #: A practice member confirms an extra appointment outside the opening hours.
    outside_hours_confirmed: bool = False


def do_book_appointment(
    session: Session,
    *,
    now: datetime,
    principal: Principal,
    request: BookingRequest,
    source: Source,
) -> Appointment:
    """Book a slot. Online, the principal must manage the patient; by the practice (phone,
    integration), the principal must be a member of that practice."""
    by_practice = source in (Source.PRACTICE, Source.INTEGRATION)
    if principal.account_id is None:
        raise Unauthenticated("sign in to do this")
    check_horizon(request.starts_at, now=now, field="starts_at")
    if by_practice:
        require(
            principal,
            Action.PRACTICE_APPOINTMENT_BOOK,
            PracticeTarget(request.practice_id),
            what="practice",
        )
        # Knowing an id is not enough: the practice books only the patients it knows.
        patient = get_registered_patient(
            session, practice_id=request.practice_id, patient_id=request.patient_id
        )
    else:
        if request.outside_hours_confirmed:
            raise InvalidInput(
                "only the practice may book outside the opening hours",
                field="outside_hours_confirmed",
            )
        patient = reach_held_patient(
            session,
            principal=principal,
            action=Action.PATIENT_APPOINTMENT_BOOK,
            patient_id=request.patient_id,
        )
    appointment_id = _fresh_appointment_id(session, request)
    loaded = load_agenda(
        session, practice_id=request.practice_id, practitioner_id=request.practitioner_id
    )
    specialty = loaded.practitioner.specialty
    history = queries.patient_history(
        session,
        patient_id=patient.patient_id,
        practice_id=request.practice_id,
        practitioner_id=request.practitioner_id,
        specialty=specialty,
        now=now,
    )
    candidates = fitting_visit_types(
        loaded.visit_types.values(),
        duration_minutes=request.duration_minutes,
        is_known=history.is_known,
        accepts_new_patients=loaded.practitioner.accepts_new_patients,
        by_practice=by_practice,
    )
    starts_at = request.starts_at
    ends_at = starts_at + timedelta(minutes=request.duration_minutes)
    blocked_until = ends_at + loaded.agenda.rules.buffer_after
    outside_hours = take_time(
        session,
        loaded=loaded,
        now=now,
        candidates=candidates,
        starts_at=starts_at,
        blocked_until=blocked_until,
        relaxed=by_practice,
        outside_hours_confirmed=request.outside_hours_confirmed,
    )
    if not by_practice:
        check_anti_hoarding(
            starts_at=starts_at,
            other_starts=history.future_starts_in_specialty,
            min_gap_days=loaded.practice.anti_hoarding_days,
        )
    appointment = Appointment(
        practice_id=request.practice_id,
        appointment_id=appointment_id,
        practitioner_id=request.practitioner_id,
        patient_id=patient.patient_id,
        booked_by_account_id=principal.account_id,
        specialty=specialty,
        starts_at=starts_at,
        ends_at=ends_at,
        blocked_until=blocked_until,
        status=Status.BOOKED.value,
        source=source.value,
        cancel_reason=None,
        hold_expires_at=None,
        reminders_wanted=request.reminders_wanted,
        outside_hours=outside_hours,
        created_at=now,
        updated_at=now,
    )
    session.add(appointment)
    with ledger.translate_overlap():
        session.flush()
    ledger.claim(session, appointment)
    if not by_practice:
        remember_patient(
            session, practice_id=request.practice_id, patient_id=patient.patient_id, now=now
        )
    if request.sealed_reason is not None:
        store_reason(
            session,
            principal=principal,
            appointment=appointment,
            reason=request.sealed_reason,
            now=now,
        )
    event_id = record_event(
        session,
        appointment,
        now=now,
        principal=principal,
        kind="booked",
        new_starts_at=starts_at,
        outside_hours=outside_hours,
    )
    audit_appointment(
        session, appointment, now=now, principal=principal, action=AuditAction.APPOINTMENT_BOOKED
    )
    if outside_hours:
        audit_appointment(
            session,
            appointment,
            now=now,
            principal=principal,
            action=AuditAction.APPOINTMENT_OUTSIDE_HOURS,
        )
    enqueue(
        session,
        at=now,
        practice_id=appointment.practice_id,
        template=Template.APPOINTMENT_CONFIRMED,
        patient_id=appointment.patient_id,
        appointment_id=appointment.appointment_id,
        event_id=event_id,
    )
    count_booking_on_commit(session, BookingAction.MADE)
    return appointment


UNUSABLE_APPOINTMENT_ID = (
    "this appointment id cannot be used: draw a new random one (UUID version 4)"
)


def _fresh_appointment_id(session: Session, request: BookingRequest) -> UUID:
    if request.appointment_id is None:
        if request.sealed_reason is not None:
            raise InvalidInput(
                "a sealed reason names its appointment: send the appointment_id it was sealed for",
                field="appointment_id",
            )
        return new_id()
    # One query and one answer whether the id is malformed or used (anywhere, by anyone): a
    # used id must not tell that it exists (errors.UnusableId).
    taken = session.scalar(
        select(Appointment.appointment_id)
        .where(Appointment.appointment_id == request.appointment_id)
        .limit(1)
    )
    if taken is not None or not is_random(request.appointment_id):
        raise UnusableId(UNUSABLE_APPOINTMENT_ID, field="appointment_id")
    return request.appointment_id


def take_time(
    session: Session,
    *,
    loaded: LoadedAgenda,
    now: datetime,
    candidates: Sequence[VisitTypeInfo],
    starts_at: datetime,
    blocked_until: datetime,
    relaxed: bool,
    exclude_appointment_id: UUID | None = None,
    outside_hours_confirmed: bool = False,
) -> bool:
    """Check the slot against the agenda and the taken time, and drop it from the search cache.

    The slot is good when it is good for at least one of the visit types the booking could be.
    The answer says whether the time is outside the opening hours, forced with the practice
    member's confirmation (``rules.raise_for_slot_problem``).
    """
    nearby = queries.time_nearby(
        session,
        practice_ids=loaded.practitioner_practice_ids,
        practitioner_id=loaded.practitioner_id,
        start=starts_at,
        until=blocked_until,
        now=now,
        exclude_appointment_id=exclude_appointment_id,
    )
    outside_hours = raise_for_slot_problem(
        closest_slot_problem(
            check_slot(
                loaded.agenda,
                candidate.spec(),
                start=starts_at,
                now=now,
                busy=nearby.busy,
                relaxed=relaxed,
            )
            for candidate in candidates
        ),
        outside_hours_confirmed=relaxed and outside_hours_confirmed,
        busy=nearby.busy,
        starts_at=starts_at,
        blocked_until=blocked_until,
    )
    if nearby.expired_holds:
        queries.lapse_holds(
            session,
            practitioner_id=loaded.practitioner_id,
            holds=nearby.expired_holds,
            now=now,
        )
    queries.drop_cached_slots(
        session,
        practice_ids=loaded.practitioner_practice_ids,
        practitioner_id=loaded.practitioner_id,
        start=starts_at,
        until=blocked_until,
    )
    return outside_hours
