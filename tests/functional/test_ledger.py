"""One practitioner, one body: the busy ledger across practices, the extra openings refused over
another practice's hours, and the slot engine's view of time taken elsewhere.

The world's GP works at the world's practice and at "Cabinet Bis" (factories.add_second_practice).
A row put in the ledger by hand stands for a racing transaction that committed after this one's
reads: the reads cannot see it, only the ledger's constraint (or, on SQLite, its check) can.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from uuid import UUID

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError

from colloque.booking.changes import (
    do_cancel_appointment,
    do_mark_appointment,
    do_reschedule_appointment,
)
from colloque.booking.ledger import EXCLUSION_VIOLATION
from colloque.booking.models import ACTIVE_STATUSES, Appointment, PractitionerBusy
from colloque.booking.rules import CancelReason, Source, Status
from colloque.booking.services import BookingRequest, do_book_appointment
from colloque.booking.waitlist.models import WaitlistEntry, WaitlistOffer
from colloque.booking.waitlist.offers import do_decide_offer
from colloque.booking.waitlist.services import do_join_waitlist
from colloque.clock import SettableClock
from colloque.errors import InvalidInput, SlotTaken
from colloque.ids import new_id
from colloque.scheduling.domain import OverrideKind
from colloque.scheduling.timetable import do_add_override
from colloque.search.availability import list_free_slots
from colloque.storage.engine import Database
from tests.factories import (
    SecondPractice,
    World,
    add_second_practice,
    build_world,
    make_patient,
    make_person,
)

TUE_0900 = datetime(2026, 3, 3, 8, 0, tzinfo=UTC)
MINUTES_20 = timedelta(minutes=20)


@pytest.fixture
def world(db: Database, clock: SettableClock) -> World:
    return build_world(db, clock)


def book_at(
    db: Database,
    clock: SettableClock,
    world: World,
    practice_id: UUID,
    starts_at: datetime,
    *,
    patient_id: UUID | None = None,
) -> Appointment:
    with db.write() as session:
        return do_book_appointment(
            session,
            now=clock.now(),
            principal=world.holder.principal(db),
            request=BookingRequest(
                practice_id=practice_id,
                practitioner_id=world.practitioner_id,
                patient_id=patient_id or world.holder_patient_id,
                starts_at=starts_at,
                duration_minutes=20,
            ),
            source=Source.ONLINE,
        )


def taken_elsewhere(db: Database, world: World, practice_id: UUID, starts_at: datetime) -> None:
    """A booking that another transaction committed after this one's reads."""
    with db.write() as session:
        session.execute(
            insert(PractitionerBusy).values(
                practitioner_id=world.practitioner_id,
                appointment_id=new_id(),
                practice_id=practice_id,
                starts_at=starts_at,
                blocked_until=starts_at + MINUTES_20,
            )
        )


def assert_ledger_mirrors_active_appointments(db: Database) -> None:
    with db.read() as session:
        active = {
            tuple(row)
            for row in session.execute(
                select(
                    Appointment.practitioner_id,
                    Appointment.appointment_id,
                    Appointment.practice_id,
                    Appointment.starts_at,
                    Appointment.blocked_until,
                ).where(Appointment.status.in_(ACTIVE_STATUSES))
            )
        }
        ledger = {
            tuple(row)
            for row in session.execute(
                select(
                    PractitionerBusy.practitioner_id,
                    PractitionerBusy.appointment_id,
                    PractitionerBusy.practice_id,
                    PractitionerBusy.starts_at,
                    PractitionerBusy.blocked_until,
                )
            )
        }
    assert ledger == active


def test_the_ledger_follows_every_change(db: Database, clock: SettableClock, world: World) -> None:
    bis = add_second_practice(db, clock, world, overlapping=True)
    first = book_at(db, clock, world, world.practice_id, TUE_0900)
    assert_ledger_mirrors_active_appointments(db)
    # The same instant through the other practice: the practitioner is taken.
    with pytest.raises(SlotTaken):
        book_at(db, clock, world, bis.practice_id, TUE_0900, patient_id=world.child_patient_id)
    elsewhere = book_at(
        db,
        clock,
        world,
        bis.practice_id,
        TUE_0900 + timedelta(hours=1),
        patient_id=world.child_patient_id,
    )
    assert_ledger_mirrors_active_appointments(db)
    secretary = world.secretary.principal(db)
    with db.write() as session:
        do_reschedule_appointment(
            session,
            now=clock.now(),
            principal=secretary,
            practice_id=world.practice_id,
            appointment_id=first.appointment_id,
            new_starts_at=TUE_0900 + timedelta(hours=2),
        )
    assert_ledger_mirrors_active_appointments(db)
    # A move onto the time taken at the other practice is refused like a booking.
    with pytest.raises(SlotTaken), db.write() as session:
        do_reschedule_appointment(
            session,
            now=clock.now(),
            principal=secretary,
            practice_id=world.practice_id,
            appointment_id=first.appointment_id,
            new_starts_at=TUE_0900 + timedelta(hours=1),
        )
    # A waitlist hold takes the time the cancellation frees; declined, it frees it again.
    waiting = make_person(db, clock, "Waiting Wendy")
    waiting_patient = make_patient(db, clock, waiting, "Wendy", "Blanc")
    with db.write() as session:
        do_join_waitlist(
            session,
            now=clock.now(),
            principal=waiting.principal(db),
            practice_id=bis.practice_id,
            practitioner_id=world.practitioner_id,
            duration_minutes=20,
            patient_id=waiting_patient,
            first_day=date(2026, 3, 3),
            last_day=date(2026, 3, 3),
        )
    with db.write() as session:
        do_cancel_appointment(
            session,
            now=clock.now(),
            principal=world.admin.principal(db),
            practice_id=bis.practice_id,
            appointment_id=elsewhere.appointment_id,
            reason=CancelReason.PRACTITIONER_UNAVAILABLE,
        )
    assert_ledger_mirrors_active_appointments(db)
    with db.read() as session:
        offer = session.scalar(select(WaitlistOffer))
        assert offer is not None
    with db.write() as session:
        do_decide_offer(
            session,
            now=clock.now(),
            principal=waiting.principal(db),
            practice_id=bis.practice_id,
            offer_id=offer.offer_id,
            accept=False,
        )
    assert_ledger_mirrors_active_appointments(db)
    # Marked done, an appointment no longer holds its time.
    clock.set(TUE_0900 + timedelta(hours=2, minutes=30))
    with db.write() as session:
        do_mark_appointment(
            session,
            now=clock.now(),
            principal=secretary,
            practice_id=world.practice_id,
            appointment_id=first.appointment_id,
            outcome=Status.DONE,
        )
    assert_ledger_mirrors_active_appointments(db)


def test_the_database_refuses_what_the_reads_missed(
    db: Database, clock: SettableClock, world: World
) -> None:
    bis = add_second_practice(db, clock, world, overlapping=True)
    taken_elsewhere(db, world, bis.practice_id, TUE_0900)
    # The booking's reads see no appointment there; the ledger refuses it: the same 409.
    with pytest.raises(SlotTaken) as caught:
        book_at(db, clock, world, world.practice_id, TUE_0900)
    assert caught.value.field == "starts_at"
    moved = book_at(db, clock, world, world.practice_id, TUE_0900 + timedelta(hours=1))
    with pytest.raises(SlotTaken), db.write() as session:
        do_reschedule_appointment(
            session,
            now=clock.now(),
            principal=world.secretary.principal(db),
            practice_id=world.practice_id,
            appointment_id=moved.appointment_id,
            new_starts_at=TUE_0900 + timedelta(minutes=15),
        )
    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(PractitionerBusy)) == 2
    if db.writer_engine.dialect.name == "postgresql":
        # There, the constraint itself refuses it, whoever writes.
        with pytest.raises(IntegrityError) as refused:
            taken_elsewhere(db, world, world.practice_id, TUE_0900 + timedelta(minutes=10))
        assert getattr(refused.value.orig, "sqlstate", None) == EXCLUSION_VIOLATION


def test_freed_time_taken_meanwhile_is_not_offered(
    db: Database, clock: SettableClock, world: World
) -> None:
    bis = add_second_practice(db, clock, world, overlapping=True)
    freed = book_at(db, clock, world, world.practice_id, TUE_0900)
    waiting = make_person(db, clock, "Waiting Wendy")
    waiting_patient = make_patient(db, clock, waiting, "Wendy", "Blanc")
    with db.write() as session:
        entry = do_join_waitlist(
            session,
            now=clock.now(),
            principal=waiting.principal(db),
            practice_id=world.practice_id,
            practitioner_id=world.practitioner_id,
            duration_minutes=30,
            patient_id=waiting_patient,
            first_day=date(2026, 3, 3),
            last_day=date(2026, 3, 3),
        )
    # The other practice took 09:20 after the reads of the cancellation below: the 30-minute
    # hold its freed 09:00 would make cannot be, and the cancellation goes through without it.
    taken_elsewhere(db, world, bis.practice_id, TUE_0900 + MINUTES_20)
    with db.write() as session:
        do_cancel_appointment(
            session,
            now=clock.now(),
            principal=world.admin.principal(db),
            practice_id=world.practice_id,
            appointment_id=freed.appointment_id,
            reason=CancelReason.PRACTITIONER_UNAVAILABLE,
        )
    with db.read() as session:
        assert session.scalar(select(WaitlistOffer)) is None
        kept = session.get(WaitlistEntry, (world.practice_id, entry.entry_id))
        assert kept is not None
        assert kept.status == "waiting"
        cancelled = session.get(Appointment, (world.practice_id, freed.appointment_id))
        assert cancelled is not None
        assert cancelled.status == Status.CANCELLED_BY_PRACTICE
        assert session.scalar(select(func.count()).select_from(PractitionerBusy)) == 1


def add_extra_opening(
    db: Database,
    clock: SettableClock,
    world: World,
    practice_id: UUID,
    day: date,
    start_minute: int,
    end_minute: int,
    visit_type_id: UUID,
) -> None:
    with db.write() as session:
        do_add_override(
            session,
            now=clock.now(),
            principal=world.admin.principal(db),
            practice_id=practice_id,
            practitioner_id=world.practitioner_id,
            kind=OverrideKind.EXTRA_OPENING,
            first_day=day,
            last_day=day,
            start_minute=start_minute,
            end_minute=end_minute,
            visit_type_ids=[visit_type_id],
        )


def test_an_extra_opening_over_hours_elsewhere_is_refused(
    db: Database, clock: SettableClock, world: World
) -> None:
    bis: SecondPractice = add_second_practice(db, clock, world, overlapping=False)
    monday = date(2026, 3, 9)
    # Monday 10:00-11:00 is the GP's time at the first practice.
    with pytest.raises(InvalidInput) as caught:
        add_extra_opening(db, clock, world, bis.practice_id, monday, 600, 660, bis.consultation_id)
    assert caught.value.field == "start_minute"
    assert "another practice" in str(caught.value)
    # A week's extra opening is refused for the one working day it meets.
    with pytest.raises(InvalidInput), db.write() as session:
        do_add_override(
            session,
            now=clock.now(),
            principal=world.admin.principal(db),
            practice_id=bis.practice_id,
            practitioner_id=world.practitioner_id,
            kind=OverrideKind.EXTRA_OPENING,
            first_day=date(2026, 3, 14),
            last_day=date(2026, 3, 20),
            start_minute=17 * 60,
            end_minute=19 * 60,
            visit_type_ids=[bis.consultation_id],
        )
    # The lunch gap, and a Sunday, are free.
    add_extra_opening(db, clock, world, bis.practice_id, monday, 720, 840, bis.consultation_id)
    add_extra_opening(
        db, clock, world, bis.practice_id, date(2026, 3, 15), 600, 660, bis.consultation_id
    )
    # Time off at the first practice frees the GP for the other one.
    with db.write() as session:
        do_add_override(
            session,
            now=clock.now(),
            principal=world.admin.principal(db),
            practice_id=world.practice_id,
            practitioner_id=world.practitioner_id,
            kind=OverrideKind.ABSENCE,
            first_day=date(2026, 3, 16),
            last_day=date(2026, 3, 16),
        )
    add_extra_opening(
        db, clock, world, bis.practice_id, date(2026, 3, 16), 600, 660, bis.consultation_id
    )
    # And the first practice's extra openings meet the other's hours, and its extra openings.
    with pytest.raises(InvalidInput):
        add_extra_opening(
            db, clock, world, world.practice_id, date(2026, 3, 14), 600, 660, world.consultation_id
        )
    with pytest.raises(InvalidInput):
        add_extra_opening(
            db, clock, world, world.practice_id, date(2026, 3, 15), 630, 700, world.consultation_id
        )


def test_time_taken_at_one_practice_is_not_offered_at_the_other(
    db: Database, clock: SettableClock, world: World
) -> None:
    bis = add_second_practice(db, clock, world, overlapping=True)
    book_at(db, clock, world, world.practice_id, TUE_0900)
    with db.read() as session:
        slots = list_free_slots(
            session,
            now=clock.now(),
            practice_id=bis.practice_id,
            practitioner_id=world.practitioner_id,
            visit_type_id=bis.consultation_id,
            duration_minutes=None,
            start=date(2026, 3, 3),
            days=1,
        )
    starts = {slot.start for slot in slots}
    # 09:00 is taken, and a 20-minute visit at 09:15 would run into it; 09:30 is free.
    assert TUE_0900 not in starts
    assert TUE_0900 + timedelta(minutes=15) not in starts
    assert TUE_0900 + timedelta(minutes=30) in starts
