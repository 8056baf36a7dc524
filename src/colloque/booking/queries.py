"""Reads and small writes that booking and the waitlist share. No authorization here: the
service functions that call these have already decided."""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import UUID

from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.orm import Session

from colloque.booking.models import ACTIVE_STATUSES, Appointment
from colloque.booking.rules import Status
from colloque.scheduling.domain import Busy
from colloque.search.models import NextSlot
from colloque.waitlist.models import WaitlistOffer

#: Wide enough to hold every appointment of the local day of any instant, in any time zone.
DAY_MARGIN = timedelta(hours=40)


def busy_around(
    session: Session,
    *,
    practitioner_id: UUID,
    start: datetime,
    until: datetime,
    now: datetime,
    exclude_appointment_id: UUID | None = None,
) -> list[Busy]:
    """The practitioner's taken time near [start, until), at every practice they work at.

    Unexpired holds count as taken; lapsed ones do not.
    """
    query = select(Appointment.starts_at, Appointment.blocked_until).where(
        Appointment.practitioner_id == practitioner_id,
        Appointment.starts_at < until + DAY_MARGIN,
        Appointment.blocked_until > start - DAY_MARGIN,
        or_(
            Appointment.status == Status.BOOKED,
            and_(Appointment.status == Status.HELD, Appointment.hold_expires_at > now),
        ),
    )
    if exclude_appointment_id is not None:
        query = query.where(Appointment.appointment_id != exclude_appointment_id)
    return [Busy(start=s, until=u) for s, u in session.execute(query)]


def busy_between(
    session: Session, *, practitioner_id: UUID, start: datetime, until: datetime, now: datetime
) -> list[Busy]:
    """All taken time of a practitioner over a long window (for slot listing and the cache)."""
    rows = session.execute(
        select(Appointment.starts_at, Appointment.blocked_until)
        .where(
            Appointment.practitioner_id == practitioner_id,
            Appointment.starts_at < until,
            Appointment.blocked_until > start,
            or_(
                Appointment.status == Status.BOOKED,
                and_(Appointment.status == Status.HELD, Appointment.hold_expires_at > now),
            ),
        )
        .order_by(Appointment.starts_at)
    )
    return [Busy(start=s, until=u) for s, u in rows]


def lapse_expired_holds(
    session: Session, *, practitioner_id: UUID, start: datetime, until: datetime, now: datetime
) -> None:
    """Free expired waitlist holds that overlap [start, until) before taking that time.

    The database constraint still sees an expired hold as active until its status changes.
    """
    expired = list(
        session.execute(
            select(Appointment.practice_id, Appointment.appointment_id).where(
                Appointment.practitioner_id == practitioner_id,
                Appointment.status == Status.HELD,
                Appointment.hold_expires_at <= now,
                Appointment.starts_at < until,
                Appointment.blocked_until > start,
            )
        )
    )
    for practice_id, appointment_id in expired:
        session.execute(
            update(Appointment)
            .where(
                Appointment.practice_id == practice_id,
                Appointment.appointment_id == appointment_id,
            )
            .values(status=Status.HOLD_LAPSED, hold_expires_at=None, updated_at=now)
        )
        session.execute(
            update(WaitlistOffer)
            .where(
                WaitlistOffer.practice_id == practice_id,
                WaitlistOffer.appointment_id == appointment_id,
                WaitlistOffer.outcome == "pending",
            )
            .values(outcome="lapsed", decided_at=now)
        )


def is_known_patient(
    session: Session, *, practice_id: UUID, practitioner_id: UUID, patient_id: UUID, now: datetime
) -> bool:
    """Known: the patient has already been seen by this practitioner at this practice."""
    seen = session.scalar(
        select(Appointment.appointment_id)
        .where(
            Appointment.patient_id == patient_id,
            Appointment.practice_id == practice_id,
            Appointment.practitioner_id == practitioner_id,
            or_(
                Appointment.status == Status.DONE,
                and_(Appointment.status == Status.BOOKED, Appointment.ends_at <= now),
            ),
        )
        .limit(1)
    )
    return seen is not None


def future_starts_in_specialty(
    session: Session,
    *,
    patient_id: UUID,
    specialty: str,
    now: datetime,
    exclude_appointment_id: UUID | None = None,
) -> list[datetime]:
    query = select(Appointment.starts_at).where(
        Appointment.patient_id == patient_id,
        Appointment.specialty == specialty,
        Appointment.starts_at > now,
        Appointment.status.in_(ACTIVE_STATUSES),
    )
    if exclude_appointment_id is not None:
        query = query.where(Appointment.appointment_id != exclude_appointment_id)
    return list(session.scalars(query))


def drop_cached_slots(
    session: Session,
    *,
    practitioner_id: UUID,
    buffers: dict[UUID, timedelta],
    start: datetime,
    until: datetime,
) -> None:
    """Remove cached search slots that taking [start, until) makes unbookable, in every agenda
    of the practitioner (``buffers`` maps each of their practices to its buffer)."""
    for practice_id, buffer in buffers.items():
        session.execute(
            delete(NextSlot).where(
                NextSlot.practice_id == practice_id,
                NextSlot.practitioner_id == practitioner_id,
                NextSlot.starts_at < until,
                NextSlot.ends_at > start - buffer,
            )
        )
