"""Time off over booked appointments: listed first, then, once confirmed, cancelled with it.

An absence or a holiday closes time. When that time holds booked (or held) appointments of the
agenda, adding it, or widening one already there, is refused (409 ``appointments-affected``) with
the list, unless the request names exactly those appointments (``cancel_appointment_ids``). The
list is named, not counted, so that an appointment booked between the preview and the
confirmation is never cancelled unseen: the set differs, and the answer is the new list.

On confirmation one transaction writes the override and cancels each appointment by the
practice, each with its history event, audit event and message (booking/changes.py ``cancel``).
The freed time is not offered to the waitlist: the absence has just closed it. A waitlist hold in
that time lapses, its entry back in line. The scheduling package cannot cancel appointments (it
sits below booking), so the routes call these functions, which call scheduling's.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from colloque.audit.services import AuditAction, record
from colloque.authorization.policy import Action, PracticeTarget, authorize, require
from colloque.booking import changes
from colloque.booking.access import appointment_refs
from colloque.booking.models import Appointment
from colloque.booking.rules import CancelReason, Status
from colloque.booking.waitlist.models import WaitlistEntry, WaitlistOffer
from colloque.booking.waitlist.offers import close_offer
from colloque.errors import AppointmentsAffected, NotFound
from colloque.patients.models import Patient
from colloque.principal import Principal
from colloque.scheduling import timetable
from colloque.scheduling import timetable_editing as editing
from colloque.scheduling.domain import OverrideKind
from colloque.scheduling.loading import minute_to_time
from colloque.scheduling.models import AgendaOverride
from colloque.scheduling.services import get_agenda_row, get_practice
from colloque.scheduling.timeline import day_start, from_micros, wall_instant
from colloque.scheduling.versions import check_version

#: The kinds of override that close time; an extra opening only adds some.
CLOSING_KINDS = frozenset({OverrideKind.ABSENCE, OverrideKind.HOLIDAY})
#: The reason each closing kind cancels with: a code, as every cancellation reason is. The
#: message reads it to offer other times (delivery/compose.py).
CANCEL_REASONS = {
    OverrideKind.ABSENCE: CancelReason.PRACTITIONER_UNAVAILABLE,
    OverrideKind.HOLIDAY: CancelReason.PRACTICE_CLOSED,
}
CONFIRM_FIELD = "cancel_appointment_ids"


@dataclass(frozen=True, slots=True)
class TimeOff:
    """A date override as asked for: what a new one is, or what an existing one becomes."""

    kind: OverrideKind
    first_day: date
    last_day: date
    start_minute: int | None = None
    end_minute: int | None = None
    visit_type_ids: tuple[UUID, ...] = ()

    @classmethod
    def of(cls, override: AgendaOverride) -> TimeOff:
        return cls(
            kind=OverrideKind(override.kind),
            first_day=override.first_day,
            last_day=override.last_day,
            start_minute=override.start_minute,
            end_minute=override.end_minute,
        )

    def closed(self, zone: ZoneInfo) -> list[tuple[datetime, datetime]]:
        """The UTC stretches this override closes, one per local day, by start (none for an
        extra opening). A wall time is read as the slot engine reads it (timeline.wall_instant)."""
        if self.kind not in CLOSING_KINDS:
            return []
        pieces = []
        day = self.first_day
        while day <= self.last_day:
            end_of_day = day_start(day + timedelta(days=1), zone)
            if self.start_minute is None or self.end_minute is None:
                pieces.append((day_start(day, zone), end_of_day))
            else:
                start = from_micros(wall_instant(day, minute_to_time(self.start_minute), zone))
                end = (
                    end_of_day
                    if self.end_minute >= 24 * 60
                    else from_micros(wall_instant(day, minute_to_time(self.end_minute), zone))
                )
                pieces.append((start, end))
            day += timedelta(days=1)
        return pieces


@dataclass(frozen=True, slots=True)
class Affected:
    """An appointment in the way, as the agenda shows it to the practice: times in the
    practice's zone and the patient's name."""

    appointment: Appointment
    patient: Patient
    starts_at: datetime
    ends_at: datetime


def _overlaps(pieces: Sequence[tuple[datetime, datetime]], start: datetime, end: datetime) -> bool:
    # The pieces are sorted and disjoint: only the last one starting before ``end`` can reach
    # past ``start``.
    index = bisect_left([s for s, _ in pieces], end) - 1
    return index >= 0 and pieces[index][1] > start


def _affected(
    session: Session,
    *,
    now: datetime,
    practice_id: UUID,
    practitioner_id: UUID,
    time_off: TimeOff,
    replacing: TimeOff | None,
    lock: bool,
) -> list[Affected]:
    """The agenda's future booked (or live held) appointments that ``time_off`` closes and the
    override it replaces did not already close, by start."""
    zone = ZoneInfo(get_practice(session, practice_id=practice_id).timezone)
    closed = time_off.closed(zone)
    if not closed:
        return []
    already = replacing.closed(zone) if replacing is not None else []
    query = (
        select(Appointment, Patient)
        .join(Patient, Patient.patient_id == Appointment.patient_id)
        .where(
            Appointment.practice_id == practice_id,
            Appointment.practitioner_id == practitioner_id,
            Appointment.starts_at < closed[-1][1],
            Appointment.ends_at > closed[0][0],
            # One that has begun is not cancelled: the practice deals with it as it is.
            Appointment.starts_at > now,
            or_(
                Appointment.status == Status.BOOKED,
                and_(Appointment.status == Status.HELD, Appointment.hold_expires_at > now),
            ),
        )
        .order_by(Appointment.starts_at, Appointment.appointment_id)
    )
    if lock:
        query = query.with_for_update(of=Appointment)
    return [
        Affected(a, p, a.starts_at.astimezone(zone), a.ends_at.astimezone(zone))
        for a, p in session.execute(query)
        if _overlaps(closed, a.starts_at, a.ends_at)
        and not _overlaps(already, a.starts_at, a.ends_at)
    ]


def _check_time_off(
    session: Session, *, now: datetime, practice_id: UUID, practitioner_id: UUID, time_off: TimeOff
) -> None:
    timetable.check_override(
        session,
        now=now,
        practice_id=practice_id,
        practitioner_id=practitioner_id,
        kind=time_off.kind,
        first_day=time_off.first_day,
        last_day=time_off.last_day,
        start_minute=time_off.start_minute,
        end_minute=time_off.end_minute,
        visit_type_ids=time_off.visit_type_ids,
    )


def _replaced(
    session: Session,
    *,
    principal: Principal,
    practice_id: UUID,
    override_id: UUID,
    kind: OverrideKind,
) -> tuple[AgendaOverride, list[UUID]]:
    override, types = editing.get_override(
        session, principal=principal, practice_id=practice_id, override_id=override_id
    )
    timetable.require_override_rights(
        principal, practice_id, override.practitioner_id, [OverrideKind(override.kind), kind]
    )
    return override, types


def preview_time_off(
    session: Session,
    *,
    now: datetime,
    principal: Principal,
    practice_id: UUID,
    practitioner_id: UUID,
    time_off: TimeOff,
    replacing_id: UUID | None = None,
) -> list[Affected]:
    """What adding ``time_off`` (or making the override ``replacing_id`` into it) would cancel,
    writing nothing but the audit event of the agenda read it is."""
    replacing = None
    if replacing_id is None:
        timetable.require_override_rights(principal, practice_id, practitioner_id, [time_off.kind])
        get_agenda_row(session, practice_id=practice_id, practitioner_id=practitioner_id)
    else:
        override, _ = _replaced(
            session,
            principal=principal,
            practice_id=practice_id,
            override_id=replacing_id,
            kind=time_off.kind,
        )
        if override.practitioner_id != practitioner_id:
            raise NotFound("override not found", field="replacing")
        replacing = TimeOff.of(override)
    require(principal, Action.PRACTICE_AGENDA_VIEW, PracticeTarget(practice_id), what="practice")
    _check_time_off(
        session,
        now=now,
        practice_id=practice_id,
        practitioner_id=practitioner_id,
        time_off=time_off,
    )
    affected = _affected(
        session,
        now=now,
        practice_id=practice_id,
        practitioner_id=practitioner_id,
        time_off=time_off,
        replacing=replacing,
        lock=False,
    )
    record(
        session,
        at=now,
        action=AuditAction.AGENDA_VIEWED,
        principal=principal,
        practice_id=practice_id,
        object_kind="agenda",
        object_id=practitioner_id,
        objects=appointment_refs(item.appointment for item in affected),
    )
    return affected


def _confirm(
    principal: Principal,
    practice_id: UUID,
    affected: list[Affected],
    confirmed: Collection[UUID] | None,
) -> None:
    """Go ahead only when the request named exactly the appointments it cancels."""
    if affected:
        require(
            principal,
            Action.PRACTICE_APPOINTMENT_CHANGE,
            PracticeTarget(practice_id),
            what="practice",
        )
    if {a.appointment.appointment_id for a in affected} != set(confirmed or ()):
        raise AppointmentsAffected(
            f"this time off would cancel {len(affected)} appointment(s): confirm by naming them"
            f" in {CONFIRM_FIELD}",
            appointments=[(a.appointment.appointment_id, a.starts_at) for a in affected],
            field=CONFIRM_FIELD,
        )


def _cancel_all(
    session: Session,
    *,
    now: datetime,
    principal: Principal,
    kind: OverrideKind,
    affected: list[Affected],
) -> None:
    if not affected:
        return
    reason = CANCEL_REASONS[kind]
    # Confirmed with the count shown: an admin's confirmation also passes the mass-change breaker;
    # a secretary's or a practitioner's cancellations count like any others and may wait for one.
    approved = bool(
        authorize(
            principal,
            Action.PRACTICE_OUTBOX_MANAGE,
            PracticeTarget(affected[0].appointment.practice_id),
        )
    )
    for item in affected:
        appointment = item.appointment
        if appointment.status == Status.HELD:
            _withdraw_hold(session, appointment, now=now, principal=principal)
            continue
        changes.cancel(
            session,
            appointment,
            now=now,
            principal=principal,
            by_practice=True,
            reason=reason,
            approved=approved,
        )


def _withdraw_hold(
    session: Session, appointment: Appointment, *, now: datetime, principal: Principal
) -> None:
    """A waitlist hold in the closed time lapses, and its entry waits again for another time.
    It was never the patient's appointment: no cancellation message."""
    offer = session.scalar(
        select(WaitlistOffer).where(
            WaitlistOffer.practice_id == appointment.practice_id,
            WaitlistOffer.appointment_id == appointment.appointment_id,
            WaitlistOffer.outcome == "pending",
        )
    )
    # A live hold always has its pending offer (they are made together, and close together).
    assert offer is not None
    close_offer(session, offer, now=now, principal=principal, outcome="lapsed")
    entry = session.get(WaitlistEntry, (offer.practice_id, offer.entry_id))
    assert entry is not None
    entry.status = "waiting"


def _lock_and_confirm(
    session: Session,
    *,
    now: datetime,
    principal: Principal,
    practice_id: UUID,
    practitioner_id: UUID,
    time_off: TimeOff,
    replacing: TimeOff | None,
    cancel_appointment_ids: Collection[UUID] | None,
) -> list[Affected]:
    """The appointments the change cancels, once the request named exactly them. The agenda row
    is locked first, so that two changes of one agenda's time off take their turns, and the
    appointments then, so that none changes under the confirmation."""
    get_agenda_row(
        session, practice_id=practice_id, practitioner_id=practitioner_id, for_update=True
    )
    _check_time_off(
        session,
        now=now,
        practice_id=practice_id,
        practitioner_id=practitioner_id,
        time_off=time_off,
    )
    affected = _affected(
        session,
        now=now,
        practice_id=practice_id,
        practitioner_id=practitioner_id,
        time_off=time_off,
        replacing=replacing,
        lock=True,
    )
    _confirm(principal, practice_id, affected, cancel_appointment_ids)
    return affected


def do_add_time_off(
    session: Session,
    *,
    now: datetime,
    principal: Principal,
    practice_id: UUID,
    practitioner_id: UUID,
    time_off: TimeOff,
    cancel_appointment_ids: Collection[UUID] | None = None,
) -> tuple[AgendaOverride, int]:
    """Add a date override; with time off over appointments, cancel them as confirmed. Answers
    the override and how many appointments it cancelled."""
    timetable.require_override_rights(principal, practice_id, practitioner_id, [time_off.kind])
    affected = _lock_and_confirm(
        session,
        now=now,
        principal=principal,
        practice_id=practice_id,
        practitioner_id=practitioner_id,
        time_off=time_off,
        replacing=None,
        cancel_appointment_ids=cancel_appointment_ids,
    )
    override = timetable.do_add_override(
        session,
        now=now,
        principal=principal,
        practice_id=practice_id,
        practitioner_id=practitioner_id,
        kind=time_off.kind,
        first_day=time_off.first_day,
        last_day=time_off.last_day,
        start_minute=time_off.start_minute,
        end_minute=time_off.end_minute,
        visit_type_ids=time_off.visit_type_ids,
    )
    _cancel_all(session, now=now, principal=principal, kind=time_off.kind, affected=affected)
    return override, len(affected)


def do_replace_time_off(
    session: Session,
    *,
    now: datetime,
    principal: Principal,
    practice_id: UUID,
    override_id: UUID,
    expected_version: str,
    time_off: TimeOff,
    cancel_appointment_ids: Collection[UUID] | None = None,
) -> tuple[AgendaOverride, list[UUID], int]:
    """Replace a date override; what it newly closes is handled as when adding one (time the
    old override already closed is not asked about again). Answers the override, its visit
    types and how many appointments it cancelled."""
    override, types = _replaced(
        session,
        principal=principal,
        practice_id=practice_id,
        override_id=override_id,
        kind=time_off.kind,
    )
    check_version(editing.override_version(override, types), expected_version, what="override")
    affected = _lock_and_confirm(
        session,
        now=now,
        principal=principal,
        practice_id=practice_id,
        practitioner_id=override.practitioner_id,
        time_off=time_off,
        replacing=TimeOff.of(override),
        cancel_appointment_ids=cancel_appointment_ids,
    )
    replaced, ids = editing.do_replace_override(
        session,
        now=now,
        principal=principal,
        practice_id=practice_id,
        override_id=override_id,
        expected_version=expected_version,
        kind=time_off.kind,
        first_day=time_off.first_day,
        last_day=time_off.last_day,
        start_minute=time_off.start_minute,
        end_minute=time_off.end_minute,
        visit_type_ids=time_off.visit_type_ids,
    )
    _cancel_all(session, now=now, principal=principal, kind=time_off.kind, affected=affected)
    return replaced, ids, len(affected)
