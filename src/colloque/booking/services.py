"""Use cases that change appointments: book, cancel, reschedule, mark (reading them: access.py).

Each function checks the principal with the one policy, applies the booking rules, makes the
change with its history event, audit event and outbox message, and leaves the commit to the
caller. On PostgreSQL the exclusion constraint is the last word on overlaps: a racing insert that
slipped past the check fails there and becomes the same 409 as a check that caught it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from colloque.audit.services import AuditAction
from colloque.authorization.policy import Action, PatientTarget, PracticeTarget, require
from colloque.authorization.principal import Principal
from colloque.booking import queries
from colloque.booking.access import audit_appointment, get_patient, reach
from colloque.booking.models import Appointment, AppointmentEvent
from colloque.booking.reasons import SealedReason, store_reason
from colloque.booking.rules import (
    CancelReason,
    Source,
    Status,
    check_anti_hoarding,
    check_patient_cutoff,
    closest_slot_problem,
    fitting_visit_types,
    raise_for_slot_problem,
)
from colloque.errors import (
    Conflict,
    InvalidInput,
    NotFound,
    RuleViolation,
    SlotTaken,
    Unauthenticated,
)
from colloque.ids import new_id
from colloque.metrics import BookingAction, count_booking_on_commit
from colloque.notifications.services import Template, enqueue
from colloque.patients.registry import get_registered_patient, remember_patient
from colloque.scheduling.domain import VisitTypeInfo
from colloque.scheduling.loading import LoadedAgenda, load_agenda
from colloque.scheduling.services import get_practice, mark_agenda_stale
from colloque.scheduling.slots import check_slot
from colloque.waitlist import services as waitlist

EXCLUSION_VIOLATION = "23P01"


@contextmanager
def translate_overlap() -> Iterator[None]:
    """Turn the database's refusal of an overlapping appointment into a 409."""
    try:
        yield
    except IntegrityError as exc:
        if getattr(exc.orig, "sqlstate", None) == EXCLUSION_VIOLATION:
            raise SlotTaken("this slot was just taken", field="starts_at") from exc
        raise


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
        patient = get_patient(session, request.patient_id)
        require(
            principal,
            Action.PATIENT_APPOINTMENT_BOOK,
            PatientTarget(patient.holder_account_id),
            what="patient",
            field="patient_id",
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
    _take_time(
        session,
        loaded=loaded,
        now=now,
        candidates=candidates,
        starts_at=starts_at,
        blocked_until=blocked_until,
        relaxed=by_practice,
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
        created_at=now,
        updated_at=now,
    )
    session.add(appointment)
    with translate_overlap():
        session.flush()
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
    _history(
        session, appointment, now=now, principal=principal, kind="booked", new_starts_at=starts_at
    )
    audit_appointment(
        session, appointment, now=now, principal=principal, action=AuditAction.APPOINTMENT_BOOKED
    )
    enqueue(
        session,
        at=now,
        practice_id=appointment.practice_id,
        template=Template.APPOINTMENT_CONFIRMED,
        appointment_id=appointment.appointment_id,
        recipient_account_id=patient.holder_account_id,
    )
    count_booking_on_commit(session, BookingAction.MADE)
    return appointment


def _fresh_appointment_id(session: Session, request: BookingRequest) -> UUID:
    if request.appointment_id is None:
        if request.sealed_reason is not None:
            raise InvalidInput(
                "a sealed reason names its appointment: send the appointment_id it was sealed for",
                field="appointment_id",
            )
        return new_id()
    if request.appointment_id.version != 4:
        raise InvalidInput("appointment ids are random (UUID version 4)", field="appointment_id")
    taken = session.scalar(
        select(Appointment.appointment_id).where(
            Appointment.appointment_id == request.appointment_id
        )
    )
    if taken is not None:
        raise Conflict("this appointment id is already used", field="appointment_id")
    return request.appointment_id


def _take_time(
    session: Session,
    *,
    loaded: LoadedAgenda,
    now: datetime,
    candidates: Sequence[VisitTypeInfo],
    starts_at: datetime,
    blocked_until: datetime,
    relaxed: bool,
    exclude_appointment_id: UUID | None = None,
) -> None:
    """Check the slot against the agenda and the taken time, and drop it from the search cache.

    The slot is good when it is good for at least one of the visit types the booking could be.
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
    raise_for_slot_problem(
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
        )
    )
    if nearby.expired_holds:
        queries.lapse_holds(session, holds=nearby.expired_holds, now=now)
    queries.drop_cached_slots(
        session,
        practice_ids=loaded.practitioner_practice_ids,
        practitioner_id=loaded.practitioner_id,
        start=starts_at,
        until=blocked_until,
    )


def _history(
    session: Session,
    appointment: Appointment,
    *,
    now: datetime,
    principal: Principal,
    kind: str,
    previous_starts_at: datetime | None = None,
    new_starts_at: datetime | None = None,
    reason: str | None = None,
) -> None:
    role = principal.role_in(appointment.practice_id)
    session.add(
        AppointmentEvent(
            practice_id=appointment.practice_id,
            event_id=new_id(),
            appointment_id=appointment.appointment_id,
            at=now,
            kind=kind,
            actor_account_id=principal.account_id,
            actor_role=role.value if role else ("patient" if principal.account_id else "system"),
            previous_starts_at=previous_starts_at,
            new_starts_at=new_starts_at,
            reason=reason,
        )
    )


def do_cancel_appointment(
    session: Session,
    *,
    now: datetime,
    principal: Principal,
    practice_id: UUID,
    appointment_id: UUID,
    reason: CancelReason,
) -> Appointment:
    access = reach(
        session,
        principal=principal,
        practice_id=practice_id,
        appointment_id=appointment_id,
        practice_action=Action.PRACTICE_APPOINTMENT_CHANGE,
        patient_action=Action.PATIENT_APPOINTMENT_CHANGE,
    )
    appointment = access.appointment
    if appointment.status != Status.BOOKED:
        raise RuleViolation("only a booked appointment can be cancelled", rule="not_booked")
    if appointment.starts_at <= now:
        raise RuleViolation("this appointment has already started", rule="in_the_past")
    if not access.as_practice:
        practice = get_practice(session, practice_id=practice_id)
        check_patient_cutoff(
            starts_at=appointment.starts_at, now=now, cutoff_minutes=practice.cancel_cutoff_minutes
        )
    appointment.status = (
        Status.CANCELLED_BY_PRACTICE if access.as_practice else Status.CANCELLED_BY_PATIENT
    ).value
    appointment.cancel_reason = reason.value
    appointment.updated_at = now
    session.flush()
    _history(
        session, appointment, now=now, principal=principal, kind="cancelled", reason=reason.value
    )
    audit_appointment(
        session, appointment, now=now, principal=principal, action=AuditAction.APPOINTMENT_CANCELLED
    )
    enqueue(
        session,
        at=now,
        practice_id=practice_id,
        template=Template.APPOINTMENT_CANCELLED,
        appointment_id=appointment.appointment_id,
        recipient_account_id=access.patient.holder_account_id,
    )
    _slot_freed(session, appointment=appointment, now=now, principal=principal)
    count_booking_on_commit(session, BookingAction.CANCELLED)
    return appointment


def _slot_freed(
    session: Session, *, appointment: Appointment, now: datetime, principal: Principal
) -> None:
    mark_agenda_stale(
        session, practice_id=appointment.practice_id, practitioner_id=appointment.practitioner_id
    )
    waitlist.offer_freed_time(
        session,
        now=now,
        principal=principal,
        practice_id=appointment.practice_id,
        practitioner_id=appointment.practitioner_id,
        starts_at=appointment.starts_at,
    )


def do_reschedule_appointment(
    session: Session,
    *,
    now: datetime,
    principal: Principal,
    practice_id: UUID,
    appointment_id: UUID,
    new_starts_at: datetime,
) -> Appointment:
    """Move an appointment: the new time is taken and the old one freed in one transaction."""
    access = reach(
        session,
        principal=principal,
        practice_id=practice_id,
        appointment_id=appointment_id,
        practice_action=Action.PRACTICE_APPOINTMENT_CHANGE,
        patient_action=Action.PATIENT_APPOINTMENT_CHANGE,
    )
    appointment = access.appointment
    if appointment.status != Status.BOOKED:
        raise RuleViolation("only a booked appointment can be moved", rule="not_booked")
    if appointment.starts_at <= now:
        raise RuleViolation("this appointment has already started", rule="in_the_past")
    if new_starts_at == appointment.starts_at:
        raise InvalidInput("the new time is the current time", field="starts_at")
    loaded = load_agenda(
        session, practice_id=practice_id, practitioner_id=appointment.practitioner_id
    )
    if not access.as_practice:
        check_patient_cutoff(
            starts_at=appointment.starts_at,
            now=now,
            cutoff_minutes=loaded.practice.cancel_cutoff_minutes,
        )
    duration = appointment.ends_at - appointment.starts_at
    candidates = [vt for vt in loaded.visit_types.values() if vt.spec().duration == duration]
    if not candidates:
        raise RuleViolation(
            "this visit type is no longer offered; please book a new appointment",
            rule="visit_type_retired",
        )
    blocked_until = new_starts_at + duration + loaded.agenda.rules.buffer_after
    _take_time(
        session,
        loaded=loaded,
        now=now,
        candidates=candidates,
        starts_at=new_starts_at,
        blocked_until=blocked_until,
        relaxed=access.as_practice,
        exclude_appointment_id=appointment.appointment_id,
    )
    if not access.as_practice:
        history = queries.patient_history(
            session,
            patient_id=appointment.patient_id,
            practice_id=practice_id,
            practitioner_id=appointment.practitioner_id,
            specialty=appointment.specialty,
            now=now,
            exclude_appointment_id=appointment.appointment_id,
        )
        check_anti_hoarding(
            starts_at=new_starts_at,
            other_starts=history.future_starts_in_specialty,
            min_gap_days=loaded.practice.anti_hoarding_days,
        )
    previous = appointment.starts_at
    appointment.starts_at = new_starts_at
    appointment.ends_at = new_starts_at + duration
    appointment.blocked_until = blocked_until
    appointment.updated_at = now
    with translate_overlap():
        session.flush()
    _history(
        session,
        appointment,
        now=now,
        principal=principal,
        kind="rescheduled",
        previous_starts_at=previous,
        new_starts_at=new_starts_at,
    )
    audit_appointment(
        session,
        appointment,
        now=now,
        principal=principal,
        action=AuditAction.APPOINTMENT_RESCHEDULED,
    )
    enqueue(
        session,
        at=now,
        practice_id=practice_id,
        template=Template.APPOINTMENT_MOVED,
        appointment_id=appointment.appointment_id,
        recipient_account_id=access.patient.holder_account_id,
    )
    mark_agenda_stale(session, practice_id=practice_id, practitioner_id=appointment.practitioner_id)
    waitlist.offer_freed_time(
        session,
        now=now,
        principal=principal,
        practice_id=practice_id,
        practitioner_id=appointment.practitioner_id,
        starts_at=previous,
    )
    count_booking_on_commit(session, BookingAction.RESCHEDULED)
    return appointment


def do_mark_appointment(
    session: Session,
    *,
    now: datetime,
    principal: Principal,
    practice_id: UUID,
    appointment_id: UUID,
    outcome: Status,
) -> Appointment:
    """The practice records that the patient came (done) or did not (no-show)."""
    if outcome not in (Status.DONE, Status.NO_SHOW):
        raise InvalidInput("outcome must be done or no_show", field="outcome")
    access = reach(
        session,
        principal=principal,
        practice_id=practice_id,
        appointment_id=appointment_id,
        practice_action=Action.PRACTICE_APPOINTMENT_MARK,
        patient_action=Action.PATIENT_APPOINTMENT_VIEW,
    )
    if not access.as_practice:
        raise NotFound("appointment not found")
    appointment = access.appointment
    if appointment.status != Status.BOOKED:
        raise RuleViolation("only a booked appointment can be marked", rule="not_booked")
    if appointment.starts_at > now:
        raise RuleViolation("this appointment has not started yet", rule="in_the_future")
    appointment.status = outcome.value
    appointment.updated_at = now
    _history(
        session,
        appointment,
        now=now,
        principal=principal,
        kind="marked_done" if outcome is Status.DONE else "marked_no_show",
    )
    audit_appointment(
        session, appointment, now=now, principal=principal, action=AuditAction.APPOINTMENT_MARKED
    )
    return appointment
