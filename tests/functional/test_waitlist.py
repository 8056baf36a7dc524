"""Waitlist: freed time is held for the earliest matching entry, then booked, declined or lapsed."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from uuid import UUID

import pytest
from sqlalchemy import select

from colloque.booking.changes import do_cancel_appointment
from colloque.booking.models import Appointment
from colloque.booking.rules import CancelReason, Status
from colloque.booking.waitlist.models import WaitlistEntry, WaitlistOffer
from colloque.booking.waitlist.offers import do_decide_offer, lapse_due_offers
from colloque.booking.waitlist.services import do_join_waitlist, do_leave_waitlist, list_my_waitlist
from colloque.clock import SettableClock
from colloque.errors import NotFound, RuleViolation, SlotTaken
from colloque.notifications.models import OutboxMessage
from colloque.principal import ANONYMOUS
from colloque.storage.engine import Database
from tests.factories import Person, World, book, build_world, make_patient, make_person

TUE_0900 = datetime(2026, 3, 3, 8, 0, tzinfo=UTC)


@pytest.fixture
def world(db: Database, clock: SettableClock) -> World:
    return build_world(db, clock)


def join(
    db: Database,
    clock: SettableClock,
    world: World,
    person: Person,
    patient_id: UUID,
    first: date,
    last: date,
) -> WaitlistEntry:
    with db.write() as session:
        return do_join_waitlist(
            session,
            now=clock.now(),
            principal=person.principal(db),
            practice_id=world.practice_id,
            practitioner_id=world.practitioner_id,
            duration_minutes=20,
            patient_id=patient_id,
            first_day=first,
            last_day=last,
        )


def cancel(db: Database, clock: SettableClock, world: World, appointment: Appointment) -> None:
    with db.write() as session:
        do_cancel_appointment(
            session,
            now=clock.now(),
            principal=world.secretary.principal(db),
            practice_id=world.practice_id,
            appointment_id=appointment.appointment_id,
            reason=CancelReason.PRACTITIONER_UNAVAILABLE,
        )


def pending_offer(db: Database, entry: WaitlistEntry) -> WaitlistOffer | None:
    with db.read() as session:
        return session.scalar(
            select(WaitlistOffer).where(
                WaitlistOffer.entry_id == entry.entry_id, WaitlistOffer.outcome == "pending"
            )
        )


def test_freed_slot_is_offered_and_accepted(
    db: Database, clock: SettableClock, world: World
) -> None:
    taken = book(db, clock, world, TUE_0900)
    second = make_person(db, clock, "Waiting Wendy")
    second_patient = make_patient(db, clock, second, "Wendy", "Blanc")
    wrong_days = join(
        db,
        clock,
        world,
        world.stranger,
        world.stranger_patient_id,
        date(2026, 3, 10),
        date(2026, 3, 12),
    )
    first_in_line = join(
        db, clock, world, second, second_patient, date(2026, 3, 3), date(2026, 3, 5)
    )
    cancel(db, clock, world, taken)

    offer = pending_offer(db, first_in_line)
    assert offer is not None
    assert pending_offer(db, wrong_days) is None
    with db.read() as session:
        hold = session.get(Appointment, (world.practice_id, offer.appointment_id))
        assert hold is not None
        assert hold.status == Status.HELD
        assert hold.starts_at == TUE_0900
        assert (
            session.scalar(
                select(OutboxMessage.template).where(
                    OutboxMessage.appointment_id == hold.appointment_id
                )
            )
            == "waitlist_offer"
        )
    # The held slot is not available to anybody else.
    with pytest.raises(SlotTaken):
        book(
            db, clock, world, TUE_0900, person=world.stranger, patient_id=world.stranger_patient_id
        )
    # Only the waiting patient's manager can decide.
    with pytest.raises(NotFound), db.write() as session:
        do_decide_offer(
            session,
            now=clock.now(),
            principal=world.stranger.principal(db),
            practice_id=world.practice_id,
            offer_id=offer.offer_id,
            accept=True,
        )
    with db.write() as session:
        decision = do_decide_offer(
            session,
            now=clock.now(),
            principal=second.principal(db),
            practice_id=world.practice_id,
            offer_id=offer.offer_id,
            accept=True,
            # The visit type the patient sealed is one the practice sends no reminders for.
            reminders_wanted=False,
        )
        assert decision.appointment.status == Status.BOOKED
        assert decision.appointment.hold_expires_at is None
        assert decision.appointment.reminders_wanted is False
    with db.read() as session:
        entry = session.get(WaitlistEntry, (world.practice_id, first_in_line.entry_id))
        assert entry is not None
        assert entry.status == "booked"


def test_declined_offer_passes_to_the_next(
    db: Database, clock: SettableClock, world: World
) -> None:
    taken = book(db, clock, world, TUE_0900)
    second = make_person(db, clock, "Waiting Wendy")
    second_patient = make_patient(db, clock, second, "Wendy", "Blanc")
    first = join(db, clock, world, second, second_patient, date(2026, 3, 3), date(2026, 3, 3))
    clock.advance(timedelta(seconds=1))
    next_in_line = join(
        db,
        clock,
        world,
        world.stranger,
        world.stranger_patient_id,
        date(2026, 3, 1),
        date(2026, 3, 20),
    )
    cancel(db, clock, world, taken)
    offer = pending_offer(db, first)
    assert offer is not None
    with db.write() as session:
        do_decide_offer(
            session,
            now=clock.now(),
            principal=second.principal(db),
            practice_id=world.practice_id,
            offer_id=offer.offer_id,
            accept=False,
        )
    assert pending_offer(db, next_in_line) is not None
    assert pending_offer(db, first) is None


def test_lapsed_hold_passes_to_the_next(db: Database, clock: SettableClock, world: World) -> None:
    taken = book(db, clock, world, TUE_0900)
    second = make_person(db, clock, "Waiting Wendy")
    second_patient = make_patient(db, clock, second, "Wendy", "Blanc")
    first = join(db, clock, world, second, second_patient, date(2026, 3, 3), date(2026, 3, 3))
    clock.advance(timedelta(seconds=1))
    next_in_line = join(
        db,
        clock,
        world,
        world.stranger,
        world.stranger_patient_id,
        date(2026, 3, 1),
        date(2026, 3, 20),
    )
    cancel(db, clock, world, taken)
    offer = pending_offer(db, first)
    assert offer is not None
    clock.advance(timedelta(minutes=31))
    with pytest.raises(RuleViolation), db.write() as session:
        do_decide_offer(
            session,
            now=clock.now(),
            principal=second.principal(db),
            practice_id=world.practice_id,
            offer_id=offer.offer_id,
            accept=True,
        )
    with db.write() as session:
        assert lapse_due_offers(session, now=clock.now(), principal=ANONYMOUS) == 1
    assert pending_offer(db, next_in_line) is not None


def test_expired_hold_does_not_block_booking(
    db: Database, clock: SettableClock, world: World
) -> None:
    taken = book(db, clock, world, TUE_0900)
    second = make_person(db, clock, "Waiting Wendy")
    second_patient = make_patient(db, clock, second, "Wendy", "Blanc")
    join(db, clock, world, second, second_patient, date(2026, 3, 3), date(2026, 3, 3))
    cancel(db, clock, world, taken)
    clock.advance(timedelta(minutes=31))
    assert (
        book(
            db, clock, world, TUE_0900, person=world.stranger, patient_id=world.stranger_patient_id
        ).status
        == Status.BOOKED
    )


def test_join_rules_and_leave(db: Database, clock: SettableClock, world: World) -> None:
    with pytest.raises(NotFound):
        join(
            db,
            clock,
            world,
            world.stranger,
            world.holder_patient_id,
            date(2026, 3, 3),
            date(2026, 3, 5),
        )
    with pytest.raises(Exception, match="last_day"):
        join(
            db,
            clock,
            world,
            world.holder,
            world.holder_patient_id,
            date(2026, 3, 5),
            date(2026, 3, 3),
        )
    entry = join(
        db, clock, world, world.holder, world.holder_patient_id, date(2026, 3, 3), date(2026, 3, 5)
    )
    with db.write() as session:  # the listing is audited
        listed = list_my_waitlist(session, now=clock.now(), principal=world.holder.principal(db))
        assert [e.entry_id for e, _ in listed] == [entry.entry_id]
    with db.write() as session:
        left = do_leave_waitlist(
            session,
            now=clock.now(),
            principal=world.holder.principal(db),
            practice_id=world.practice_id,
            entry_id=entry.entry_id,
        )
        assert left.status == "withdrawn"
