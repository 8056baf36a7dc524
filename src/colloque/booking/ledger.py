"""The busy ledger: one practitioner, one body, whatever the practice.

The appointments table's exclusion constraint holds per agenda (practice and practitioner): it
must name ``practice_id`` to live on a practice's shard, so two practices could each give away
the same instant of one person. ``practitioner_busy`` holds the time of every active appointment
keyed by practitioner, and on PostgreSQL its own exclusion constraint refuses the second claim
of an instant, whichever practice makes it, even when the two transactions race (the reads
before the write cannot see each other).

Every write that makes an appointment active, moves it or ends it calls one of these in the same
transaction, after changing the appointment. On SQLite, writes are serialised (``BEGIN
IMMEDIATE``), so reading the ledger before writing it is race-free: that check stands in for the
constraint there. A refusal is the same 409 as the per-practice one (:func:`translate_overlap`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from uuid import UUID

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from colloque.booking.models import Appointment, PractitionerBusy
from colloque.errors import SlotTaken

EXCLUSION_VIOLATION = "23P01"
DEADLOCK = "40P01"
SLOT_TAKEN = "this slot was just taken"


def _overlap_refused(exc: DBAPIError) -> bool:
    """Whether PostgreSQL refused the write for overlapping time.

    Two transactions inserting overlapping rows at once each put their row in the index, find
    the other's and wait for it: PostgreSQL breaks that deadlock by failing one of them, "while
    checking exclusion constraint". That one lost the race as surely as if it had come second.
    """
    sqlstate = getattr(exc.orig, "sqlstate", None)
    if sqlstate == EXCLUSION_VIOLATION:
        return True
    diag = getattr(exc.orig, "diag", None)
    context = getattr(diag, "context", None) or ""
    return sqlstate == DEADLOCK and "exclusion constraint" in context


@contextmanager
def translate_overlap() -> Iterator[None]:
    """Turn the database's refusal of an overlapping appointment into a 409."""
    try:
        yield
    except DBAPIError as exc:
        if _overlap_refused(exc):
            raise SlotTaken(SLOT_TAKEN, field="starts_at") from exc
        raise


def _serialised(session: Session) -> bool:
    return session.get_bind().dialect.name == "sqlite"


def _check_free(session: Session, appointment: Appointment) -> None:
    """SQLite only: the overlap check the PostgreSQL constraint makes."""
    clash = session.scalar(
        select(PractitionerBusy.appointment_id)
        .where(
            PractitionerBusy.practitioner_id == appointment.practitioner_id,
            PractitionerBusy.appointment_id != appointment.appointment_id,
            PractitionerBusy.starts_at < appointment.blocked_until,
            PractitionerBusy.blocked_until > appointment.starts_at,
        )
        .limit(1)
    )
    if clash is not None:
        raise SlotTaken(SLOT_TAKEN, field="starts_at")


def claim(session: Session, appointment: Appointment) -> None:
    """The appointment became active (booked, or held for the waitlist): its time is taken."""
    if _serialised(session):
        _check_free(session, appointment)
    with translate_overlap():
        session.execute(
            insert(PractitionerBusy).values(
                practitioner_id=appointment.practitioner_id,
                appointment_id=appointment.appointment_id,
                practice_id=appointment.practice_id,
                starts_at=appointment.starts_at,
                blocked_until=appointment.blocked_until,
            )
        )


def try_add(session: Session, appointment: Appointment) -> bool:
    """Add a new active appointment and claim its time, or, when the time is taken, neither,
    answering False instead of failing the transaction: for a waitlist hold, which a freed slot
    offers only if nobody took it meanwhile, and for a decoy."""
    if _serialised(session):
        try:
            _check_free(session, appointment)
        except SlotTaken:
            return False
        session.add(appointment)
        claim(session, appointment)
        return True
    try:
        # A refused write aborts a PostgreSQL transaction: only its savepoint is rolled back.
        with session.begin_nested():
            session.add(appointment)
            with translate_overlap():
                session.flush()
            claim(session, appointment)
    except SlotTaken:
        return False
    return True


def move(session: Session, appointment: Appointment, *, previous_practitioner_id: UUID) -> None:
    """The active appointment moved (its time, and perhaps its practitioner)."""
    if appointment.practitioner_id != previous_practitioner_id:
        # The practitioner is the ledger's shard key: a row changes hands by leaving and coming.
        release_ids(
            session,
            practitioner_id=previous_practitioner_id,
            appointment_ids=[appointment.appointment_id],
        )
        claim(session, appointment)
        return
    if _serialised(session):
        _check_free(session, appointment)
    with translate_overlap():
        session.execute(
            update(PractitionerBusy)
            .where(
                PractitionerBusy.practitioner_id == appointment.practitioner_id,
                PractitionerBusy.appointment_id == appointment.appointment_id,
            )
            .values(starts_at=appointment.starts_at, blocked_until=appointment.blocked_until)
        )


def release(session: Session, appointment: Appointment) -> None:
    """The appointment stopped being active (cancelled, lapsed, done, no-show): its time is free."""
    release_ids(
        session,
        practitioner_id=appointment.practitioner_id,
        appointment_ids=[appointment.appointment_id],
    )


def release_ids(session: Session, *, practitioner_id: UUID, appointment_ids: list[UUID]) -> None:
    session.execute(
        delete(PractitionerBusy).where(
            PractitionerBusy.practitioner_id == practitioner_id,
            PractitionerBusy.appointment_id.in_(appointment_ids),
        )
    )
