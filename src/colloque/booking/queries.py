"""Reads and small writes that booking and the waitlist share. No authorization here: the
service functions that call these have already decided.

Each helper is one round trip, because these run inside every booking transaction.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    bindparam,
    case,
    delete,
    func,
    literal_column,
    or_,
    select,
    tuple_,
    update,
)
from sqlalchemy.orm import Session

from colloque.booking import ledger
from colloque.booking.models import ACTIVE_STATUSES, Appointment
from colloque.booking.rules import Status
from colloque.booking.waitlist.models import WaitlistEntry, WaitlistOffer
from colloque.records.models import ItemKeyWrap, SealedItemRow
from colloque.scheduling.domain import Busy
from colloque.scheduling.models import NextSlot

#: Wide enough to hold every appointment of the local day of any instant, in any time zone.
DAY_MARGIN = timedelta(hours=40)


@dataclass(frozen=True, slots=True)
class TimeNearby:
    """The practitioner's taken time around a request, at every practice they work at."""

    busy: list[Busy]
    #: Waitlist holds past their expiry that overlap the requested time: free it before taking it.
    expired_holds: list[tuple[UUID, UUID]] = field(default_factory=list)


def time_nearby(
    session: Session,
    *,
    practice_ids: Sequence[UUID],
    practitioner_id: UUID,
    start: datetime,
    until: datetime,
    now: datetime,
    exclude_appointment_id: UUID | None = None,
) -> TimeNearby:
    query = select(
        Appointment.practice_id,
        Appointment.appointment_id,
        Appointment.starts_at,
        Appointment.blocked_until,
        Appointment.status,
        Appointment.hold_expires_at,
    ).where(
        # practice_id first lets the database use the agenda's index instead of scanning.
        Appointment.practice_id.in_(practice_ids),
        Appointment.practitioner_id == practitioner_id,
        Appointment.starts_at < until + DAY_MARGIN,
        Appointment.blocked_until > start - DAY_MARGIN,
        Appointment.status.in_(ACTIVE_STATUSES),
    )
    if session.get_bind().dialect.name == "postgresql":
        # As in busy_between: down the exclusion index to the window, not the agenda's history.
        query = query.where(_range_overlaps(start - DAY_MARGIN, until + DAY_MARGIN))
    if exclude_appointment_id is not None:
        query = query.where(Appointment.appointment_id != exclude_appointment_id)
    busy: list[Busy] = []
    expired: list[tuple[UUID, UUID]] = []
    for (
        practice_id,
        appointment_id,
        starts_at,
        blocked_until,
        status,
        hold_expires_at,
    ) in session.execute(query):
        if status == Status.HELD and hold_expires_at is not None and hold_expires_at <= now:
            if starts_at < until and blocked_until > start:
                expired.append((practice_id, appointment_id))
            continue
        busy.append(Busy(start=starts_at, until=blocked_until))
    return TimeNearby(busy=busy, expired_holds=expired)


def busy_between(
    session: Session,
    *,
    practice_ids: Sequence[UUID],
    practitioner_id: UUID,
    start: datetime,
    until: datetime,
    now: datetime,
) -> list[Busy]:
    """All taken time of a practitioner over a window, at the practices given, in order of start
    (the patient's week of slots)."""
    statement = _BUSY_BY_RANGE if session.get_bind().dialect.name == "postgresql" else _BUSY
    rows = session.execute(
        statement,
        {
            "practice_ids": list(practice_ids),
            "practitioner_id": practitioner_id,
            "start": start,
            "until": until,
            "now": now,
        },
    ).all()  # one fetch: row by row, psycopg's fetchone was 8 % of a worker's CPU
    return [Busy(start=starts_at, until=blocked_until) for starts_at, blocked_until in rows]


def _busy_statement(*, by_range: bool) -> Select[datetime, datetime]:
    """Built once: a statement built per call costs its SQLAlchemy cache key on every request.
    Core columns, not the mapped class, so that the session runs it without the ORM's layer."""
    table = Appointment.__table__.c
    start = bindparam("start", type_=table.starts_at.type)
    until = bindparam("until", type_=table.starts_at.type)
    query = select(table.starts_at, table.blocked_until).where(
        table.practice_id.in_(bindparam("practice_ids", expanding=True)),
        table.practitioner_id == bindparam("practitioner_id"),
        table.starts_at < until,
        table.blocked_until > start,
        table.status.in_(ACTIVE_STATUSES),
        or_(
            table.status == Status.BOOKED,
            and_(
                table.status == Status.HELD,
                table.hold_expires_at > bindparam("now", type_=table.starts_at.type),
            ),
        ),
    )
    if by_range:
        query = query.where(_range_overlaps(start, until))
    return query.order_by(table.starts_at)


def _range_overlaps(start: Any, until: Any) -> ColumnElement[bool]:
    """The same overlap as the range of the agenda's exclusion constraint, so that PostgreSQL
    walks its GiST index to the window: with the two bounds alone it can only bound the agenda,
    and reads every active appointment of its whole history (0.2 ms against 1.4 for a busy
    agenda, more as its history grows)."""
    table = Appointment.__table__.c
    return func.tstzrange(table.starts_at, table.blocked_until, literal_column("'[)'")).op("&&")(
        func.tstzrange(start, until, literal_column("'[)'"))
    )


_BUSY = _busy_statement(by_range=False)
_BUSY_BY_RANGE = _busy_statement(by_range=True)


def busy_of_practitioners(
    session: Session,
    *,
    practice_ids: Mapping[UUID, Collection[UUID]],
    start: datetime,
    until: datetime,
    now: datetime,
) -> dict[UUID, list[Busy]]:
    """The taken time of several practitioners, each at the practices given for them, in one
    query (the search cache's rebuild), in order of start."""
    busy: dict[UUID, list[Busy]] = {practitioner_id: [] for practitioner_id in practice_ids}
    # Core columns: at a million appointments the ORM's per-row loading was a third of the
    # search caches' rebuild (docs/benchmarks.md, set-up).
    table = Appointment.__table__.c
    rows = session.execute(
        select(table.practitioner_id, table.starts_at, table.blocked_until)
        .where(
            _at_their_practices(practice_ids),
            table.starts_at < until,
            table.blocked_until > start,
            or_(
                table.status == Status.BOOKED,
                and_(table.status == Status.HELD, table.hold_expires_at > now),
            ),
        )
        .order_by(table.starts_at)
    )
    for practitioner_id, starts_at, blocked_until in rows:
        busy[practitioner_id].append(Busy(start=starts_at, until=blocked_until))
    return busy


def _at_their_practices(practice_ids: Mapping[UUID, Collection[UUID]]) -> ColumnElement[bool]:
    """Each practitioner's appointments at their own practices. For several, (practice,
    practitioner) pairs: PostgreSQL walks the agenda index once per pair, where two lists of
    ids would make it scan every combination (ten times slower for a hundred agendas)."""
    table = Appointment.__table__.c
    if len(practice_ids) == 1:
        ((practitioner_id, practices),) = practice_ids.items()
        return table.practice_id.in_(practices) & (table.practitioner_id == practitioner_id)
    return tuple_(table.practice_id, table.practitioner_id).in_(
        [
            (practice_id, practitioner_id)
            for practitioner_id, practices in practice_ids.items()
            for practice_id in practices
        ]
    )


def lapse_holds(
    session: Session, *, practitioner_id: UUID, holds: list[tuple[UUID, UUID]], now: datetime
) -> None:
    """Free expired waitlist holds of one practitioner. The database constraints (the agenda's,
    the busy ledger's) see a hold as active until its status changes and its ledger row goes, so
    this runs before the time is taken again. The entry that was offered the hold waits again
    (or has expired), as when the upkeep lapses it."""
    ledger.release_ids(
        session,
        practitioner_id=practitioner_id,
        appointment_ids=[appointment_id for _practice_id, appointment_id in holds],
    )
    for practice_id, appointment_id in holds:
        session.execute(
            update(Appointment)
            .where(
                Appointment.practice_id == practice_id, Appointment.appointment_id == appointment_id
            )
            .values(status=Status.HOLD_LAPSED, hold_expires_at=None, updated_at=now)
        )
        session.execute(
            update(WaitlistEntry)
            .where(
                WaitlistEntry.practice_id == practice_id,
                WaitlistEntry.status == "offered",
                WaitlistEntry.entry_id.in_(
                    select(WaitlistOffer.entry_id).where(
                        WaitlistOffer.practice_id == practice_id,
                        WaitlistOffer.appointment_id == appointment_id,
                        WaitlistOffer.outcome == "pending",
                    )
                ),
            )
            .values(status=case((WaitlistEntry.last_day >= now.date(), "waiting"), else_="expired"))
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


@dataclass(frozen=True, slots=True)
class PatientHistory:
    #: Already seen by this practitioner at this practice.
    is_known: bool
    #: Starts of the patient's future active appointments in the specialty.
    future_starts_in_specialty: list[datetime]


def patient_history(
    session: Session,
    *,
    patient_id: UUID,
    practice_id: UUID,
    practitioner_id: UUID,
    specialty: str,
    now: datetime,
    exclude_appointment_id: UUID | None = None,
) -> PatientHistory:
    rows = session.execute(
        select(
            Appointment.appointment_id,
            Appointment.practice_id,
            Appointment.practitioner_id,
            Appointment.specialty,
            Appointment.status,
            Appointment.starts_at,
            Appointment.ends_at,
        ).where(
            Appointment.patient_id == patient_id,
            or_(Appointment.specialty == specialty, Appointment.practitioner_id == practitioner_id),
        )
    )
    known = False
    future: list[datetime] = []
    for (
        appointment_id,
        row_practice,
        row_practitioner,
        row_specialty,
        status,
        starts_at,
        ends_at,
    ) in rows:
        if appointment_id == exclude_appointment_id:
            continue
        same_agenda = row_practice == practice_id and row_practitioner == practitioner_id
        seen = status == Status.DONE or (status == Status.BOOKED and ends_at <= now)
        if same_agenda and seen:
            known = True
        if row_specialty == specialty and starts_at > now and status in ACTIVE_STATUSES:
            future.append(starts_at)
    return PatientHistory(is_known=known, future_starts_in_specialty=future)


def drop_cached_slots(
    session: Session,
    *,
    practice_ids: Sequence[UUID],
    practitioner_id: UUID,
    start: datetime,
    until: datetime,
) -> None:
    """Remove the cached search slots, in every agenda of the practitioner, that taking
    [start, until) makes unbookable."""
    session.execute(
        delete(NextSlot).where(
            NextSlot.practice_id.in_(practice_ids),
            NextSlot.practitioner_id == practitioner_id,
            NextSlot.starts_at < until,
            NextSlot.blocked_until > start,
        )
    )


@dataclass(frozen=True, slots=True)
class SealedReasonCopy:
    """An appointment's sealed visit reason with the wraps one reader can open."""

    item_id: UUID
    envelope: bytes
    wraps: list[ItemKeyWrap]


def sealed_reasons(
    session: Session,
    *,
    appointments: Sequence[Appointment],
    recipient_kind: str,
    recipient_id: UUID | None = None,
) -> dict[UUID, SealedReasonCopy]:
    """Visit reasons of ``appointments`` keyed by appointment id, in two queries.

    ``recipient_kind`` "practice" keeps each appointment's practice wraps; "user" keeps the wraps
    made for the account ``recipient_id``.
    """
    if not appointments:
        return {}
    practices = {a.appointment_id: a.practice_id for a in appointments}
    items = [
        item
        for item in session.scalars(
            select(SealedItemRow).where(
                SealedItemRow.kind == "visit_reason",
                SealedItemRow.context_id.in_(list(practices)),
            )
        )
        if practices.get(item.context_id) == item.practice_id
    ]
    if not items:
        return {}
    wrap_filter = (
        ItemKeyWrap.recipient_id == ItemKeyWrap.practice_id
        if recipient_kind == "practice"
        else ItemKeyWrap.recipient_id == recipient_id
    )
    wraps: dict[UUID, list[ItemKeyWrap]] = {item.item_id: [] for item in items}
    for wrap in session.scalars(
        select(ItemKeyWrap)
        .where(
            ItemKeyWrap.item_id.in_(list(wraps)),
            ItemKeyWrap.recipient_kind == recipient_kind,
            wrap_filter,
        )
        .order_by(ItemKeyWrap.epoch)
    ):
        wraps[wrap.item_id].append(wrap)
    return {
        item.context_id: SealedReasonCopy(item.item_id, item.envelope, wraps[item.item_id])
        for item in items
    }
