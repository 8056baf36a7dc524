"""Use cases that change a booked appointment: cancel, reschedule, mark done or no-show.

As in services.py, each checks the principal with the one policy, applies the rules, writes the
history event, audit event and outbox message, and leaves the commit to the caller. A freed time
is offered to the waitlist in the same transaction. Each answers with the appointment as the
principal may read it. Each takes the version the change was based on (``If-Match``), compared
under the row's lock: 412 when the appointment changed since (booking/versions.py).
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy.orm import Session

from colloque.audit.services import AuditAction
from colloque.authorization.policy import Action
from colloque.booking import ledger, queries
from colloque.booking.access import (
    AppointmentView,
    audit_appointment,
    check_expected_version,
    reach,
    view_appointment,
)
from colloque.booking.history import record_event
from colloque.booking.models import Appointment
from colloque.booking.rules import (
    CancelReason,
    Status,
    check_anti_hoarding,
    check_cancel_reason,
    check_changeable,
    check_markable,
    check_patient_cutoff,
)
from colloque.booking.services import take_time
from colloque.booking.waitlist import offers as waitlist
from colloque.errors import InvalidInput, NotFound, RuleViolation
from colloque.metrics import BookingAction, count_booking_on_commit
from colloque.notifications.services import Template, enqueue
from colloque.principal import Principal
from colloque.scheduling.domain import check_horizon
from colloque.scheduling.loading import load_agenda
from colloque.scheduling.services import get_practice, mark_agenda_stale


def do_cancel_appointment(
    session: Session,
    *,
    now: datetime,
    principal: Principal,
    practice_id: UUID,
    appointment_id: UUID,
    reason: CancelReason,
    expected_version: str | None = None,
) -> AppointmentView:
    access = reach(
        session,
        principal=principal,
        practice_id=practice_id,
        appointment_id=appointment_id,
        practice_action=Action.PRACTICE_APPOINTMENT_CHANGE,
        patient_action=Action.PATIENT_APPOINTMENT_CHANGE,
        for_update=True,
    )
    appointment = access.appointment
    check_expected_version(appointment, expected_version)
    check_cancel_reason(reason, by_practice=access.as_practice)
    check_changeable(
        status=Status(appointment.status),
        starts_at=appointment.starts_at,
        now=now,
        change="cancelled",
    )
    if not access.as_practice:
        practice = get_practice(session, practice_id=practice_id)
        check_patient_cutoff(
            starts_at=appointment.starts_at, now=now, cutoff_minutes=practice.cancel_cutoff_minutes
        )
    cancel(
        session,
        appointment,
        now=now,
        principal=principal,
        by_practice=access.as_practice,
        reason=reason,
    )
    _slot_freed(session, appointment=appointment, now=now, principal=principal)
    return view_appointment(
        session, principal=principal, appointment=appointment, as_practice=access.as_practice
    )


def cancel(
    session: Session,
    appointment: Appointment,
    *,
    now: datetime,
    principal: Principal,
    by_practice: bool,
    reason: CancelReason,
    approved: bool = False,
) -> None:
    """The cancellation itself, once the caller has reached the appointment and checked it: its
    status, its history event, the audit event and the patient's message. Freeing the time (the
    search cache, the waitlist) is the caller's: an absence closes the time it frees.

    ``approved`` tells the outbox that the practice confirmed this cancellation having been
    shown the count (an absence), so that the mass-change breaker lets it pass.
    """
    appointment.status = (
        Status.CANCELLED_BY_PRACTICE if by_practice else Status.CANCELLED_BY_PATIENT
    ).value
    appointment.cancel_reason = reason.value
    appointment.updated_at = now
    session.flush()
    ledger.release(session, appointment)
    event_id = record_event(
        session, appointment, now=now, principal=principal, kind="cancelled", reason=reason.value
    )
    audit_appointment(
        session, appointment, now=now, principal=principal, action=AuditAction.APPOINTMENT_CANCELLED
    )
    enqueue(
        session,
        at=now,
        practice_id=appointment.practice_id,
        template=Template.APPOINTMENT_CANCELLED,
        patient_id=appointment.patient_id,
        appointment_id=appointment.appointment_id,
        event_id=event_id,
        caused_by=principal.account_id,
        approved=approved,
    )
    count_booking_on_commit(session, BookingAction.CANCELLED)


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
    outside_hours_confirmed: bool = False,
    expected_version: str | None = None,
    new_practitioner_id: UUID | None = None,
) -> AppointmentView:
    """Move an appointment: the new time is taken and the old one freed in one transaction.

    Practice staff may move it outside the opening hours with ``outside_hours_confirmed`` and to
    another practitioner of the practice (``new_practitioner_id``) whose agenda offers a visit
    type of the same length; a patient may do neither (a 422 naming the field) and moves within
    the same agenda.
    """
    check_horizon(new_starts_at, now=now, field="starts_at")
    access = reach(
        session,
        principal=principal,
        practice_id=practice_id,
        appointment_id=appointment_id,
        practice_action=Action.PRACTICE_APPOINTMENT_CHANGE,
        patient_action=Action.PATIENT_APPOINTMENT_CHANGE,
        for_update=True,
    )
    appointment = access.appointment
    if outside_hours_confirmed and not access.as_practice:
        raise InvalidInput(
            "only the practice may move an appointment outside the opening hours",
            field="outside_hours_confirmed",
        )
    check_expected_version(appointment, expected_version)
    check_changeable(
        status=Status(appointment.status), starts_at=appointment.starts_at, now=now, change="moved"
    )
    previous_practitioner_id = appointment.practitioner_id
    practitioner_id = new_practitioner_id or previous_practitioner_id
    changes_hands = practitioner_id != previous_practitioner_id
    if changes_hands and not access.as_practice:
        raise InvalidInput(
            "only the practice moves an appointment to another practitioner",
            field="practitioner_id",
        )
    if new_starts_at == appointment.starts_at and not changes_hands:
        raise InvalidInput("the new time is the current time", field="starts_at")
    try:
        loaded = load_agenda(session, practice_id=practice_id, practitioner_id=practitioner_id)
    except NotFound as error:
        raise NotFound("practitioner not found", field="practitioner_id") from error
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
    outside_hours = take_time(
        session,
        loaded=loaded,
        now=now,
        candidates=candidates,
        starts_at=new_starts_at,
        blocked_until=blocked_until,
        relaxed=access.as_practice,
        exclude_appointment_id=appointment.appointment_id,
        outside_hours_confirmed=outside_hours_confirmed,
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
    appointment.practitioner_id = practitioner_id
    appointment.specialty = loaded.practitioner.specialty
    appointment.starts_at = new_starts_at
    appointment.ends_at = new_starts_at + duration
    appointment.blocked_until = blocked_until
    appointment.outside_hours = outside_hours
    appointment.updated_at = now
    with ledger.translate_overlap():
        session.flush()
    ledger.move(session, appointment, previous_practitioner_id=previous_practitioner_id)
    event_id = record_event(
        session,
        appointment,
        now=now,
        principal=principal,
        kind="rescheduled",
        previous_starts_at=previous,
        new_starts_at=new_starts_at,
        outside_hours=outside_hours,
    )
    audit_appointment(
        session,
        appointment,
        now=now,
        principal=principal,
        action=AuditAction.APPOINTMENT_RESCHEDULED,
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
        practice_id=practice_id,
        template=Template.APPOINTMENT_MOVED,
        patient_id=appointment.patient_id,
        appointment_id=appointment.appointment_id,
        event_id=event_id,
        caused_by=principal.account_id,
    )
    mark_agenda_stale(session, practice_id=practice_id, practitioner_id=practitioner_id)
    if changes_hands:
        mark_agenda_stale(
            session, practice_id=practice_id, practitioner_id=previous_practitioner_id
        )
    waitlist.offer_freed_time(
        session,
        now=now,
        principal=principal,
        practice_id=practice_id,
        practitioner_id=previous_practitioner_id,
        starts_at=previous,
    )
    count_booking_on_commit(session, BookingAction.RESCHEDULED)
    return view_appointment(
        session, principal=principal, appointment=appointment, as_practice=access.as_practice
    )


def do_mark_appointment(
    session: Session,
    *,
    now: datetime,
    principal: Principal,
    practice_id: UUID,
    appointment_id: UUID,
    outcome: Status,
    expected_version: str | None = None,
) -> AppointmentView:
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
        for_update=True,
    )
    if not access.as_practice:
        raise NotFound("appointment not found")
    appointment = access.appointment
    check_expected_version(appointment, expected_version)
    check_markable(status=Status(appointment.status), starts_at=appointment.starts_at, now=now)
    appointment.status = outcome.value
    appointment.updated_at = now
    ledger.release(session, appointment)
    event_id = record_event(
        session,
        appointment,
        now=now,
        principal=principal,
        kind="marked_done" if outcome is Status.DONE else "marked_no_show",
    )
    audit_appointment(
        session, appointment, now=now, principal=principal, action=AuditAction.APPOINTMENT_MARKED
    )
    if outcome is Status.NO_SHOW:
        enqueue(
            session,
            at=now,
            practice_id=practice_id,
            template=Template.NO_SHOW_FOLLOW_UP,
            patient_id=appointment.patient_id,
            appointment_id=appointment.appointment_id,
            event_id=event_id,
            caused_by=principal.account_id,
        )
    return view_appointment(
        session, principal=principal, appointment=appointment, as_practice=access.as_practice
    )
