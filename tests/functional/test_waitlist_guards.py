"""Every refusal of the waitlist, and the entries the offer of freed time passes over.

Joining names a patient the principal manages, a length one of the practitioner's online visit
types has, and days that are not past nor more than 120 apart; a patient waits on at most five
lists. Leaving and deciding reach an entry through its patient: somebody else's answers exactly
like a missing one. An offer is decided once, before it expires.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from uuid import UUID

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from colloque.booking.changes import do_cancel_appointment, do_mark_appointment
from colloque.booking.models import Appointment
from colloque.booking.rules import CancelReason, Status
from colloque.booking.waitlist.models import WaitlistEntry, WaitlistOffer
from colloque.booking.waitlist.offers import do_decide_offer, offer_freed_time
from colloque.booking.waitlist.services import do_join_waitlist, do_leave_waitlist, list_my_waitlist
from colloque.clock import SettableClock
from colloque.errors import InvalidInput, NotFound, RuleViolation, Unauthenticated
from colloque.principal import ANONYMOUS
from colloque.scheduling.services import do_add_practitioner
from colloque.scheduling.specialties import Specialty
from colloque.scheduling.timetable import do_add_visit_type
from colloque.storage.engine import Database
from tests.factories import Person, World, book, build_world, make_patient, make_person
from tests.functional.http import app_client, bearer, problem

# T0 is Monday 2026-03-02 08:00 in Paris (UTC+1). Openings: 09:00-12:00 and 14:00-18:00.
MON_0900 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
TUE_0900 = MON_0900 + timedelta(days=1)
TUESDAY = date(2026, 3, 3)


@pytest.fixture
def world(db: Database, clock: SettableClock) -> World:
    return build_world(db, clock)


def join(
    db: Database,
    clock: SettableClock,
    world: World,
    person: Person,
    patient_id: UUID,
    first: date = TUESDAY,
    last: date = TUESDAY,
    *,
    duration_minutes: int = 20,
    practitioner_id: UUID | None = None,
) -> WaitlistEntry:
    with db.write() as session:
        return do_join_waitlist(
            session,
            now=clock.now(),
            principal=person.principal(db),
            practice_id=world.practice_id,
            practitioner_id=practitioner_id or world.practitioner_id,
            duration_minutes=duration_minutes,
            patient_id=patient_id,
            first_day=first,
            last_day=last,
        )


def leave(
    db: Database, clock: SettableClock, world: World, person: Person | None, entry_id: UUID
) -> WaitlistEntry:
    with db.write() as session:
        return do_leave_waitlist(
            session,
            now=clock.now(),
            principal=person.principal(db) if person else ANONYMOUS,
            practice_id=world.practice_id,
            entry_id=entry_id,
        )


def decide(
    db: Database,
    clock: SettableClock,
    world: World,
    person: Person | None,
    offer_id: UUID,
    *,
    accept: bool,
) -> None:
    with db.write() as session:
        do_decide_offer(
            session,
            now=clock.now(),
            principal=person.principal(db) if person else ANONYMOUS,
            practice_id=world.practice_id,
            offer_id=offer_id,
            accept=accept,
        )


def cancel(db: Database, clock: SettableClock, world: World, appointment_id: UUID) -> None:
    with db.write() as session:
        do_cancel_appointment(
            session,
            now=clock.now(),
            principal=world.secretary.principal(db),
            practice_id=world.practice_id,
            appointment_id=appointment_id,
            reason=CancelReason.PRACTITIONER_UNAVAILABLE,
        )


def offers_of(db: Database, entry: WaitlistEntry | WaitlistOffer) -> list[WaitlistOffer]:
    """The offers made to an entry (or to the entry of an offer), oldest first."""
    with db.read() as session:
        return list(
            session.scalars(
                select(WaitlistOffer)
                .where(WaitlistOffer.entry_id == entry.entry_id)
                .order_by(WaitlistOffer.offered_at)
            )
        )


def entry_status(db: Database, world: World, entry: WaitlistEntry) -> str:
    with db.read() as session:
        row = session.get(WaitlistEntry, (world.practice_id, entry.entry_id))
        assert row is not None
        return row.status


def appointment_status(db: Database, world: World, appointment_id: UUID) -> str:
    with db.read() as session:
        row = session.get(Appointment, (world.practice_id, appointment_id))
        assert row is not None
        return row.status


def stranger_offered_tuesday(db: Database, clock: SettableClock, world: World) -> WaitlistOffer:
    """The holder's Tuesday 09:00 is cancelled; the stranger, waiting for Tuesday, gets it held."""
    taken = book(db, clock, world, TUE_0900)
    entry = join(db, clock, world, world.stranger, world.stranger_patient_id)
    cancel(db, clock, world, taken.appointment_id)
    [offer] = offers_of(db, entry)
    assert offer.outcome == "pending"
    return offer


# --- joining ---------------------------------------------------------------------------------


def test_joining_for_a_missing_or_somebody_elses_patient(
    db: Database, clock: SettableClock, world: World
) -> None:
    for patient_id in (uuid.uuid4(), world.holder_patient_id):
        with pytest.raises(NotFound) as caught:
            join(db, clock, world, world.stranger, patient_id)
        assert (caught.value.detail, caught.value.field) == ("patient not found", "patient_id")
    with pytest.raises(Unauthenticated), db.write() as session:
        do_join_waitlist(
            session,
            now=clock.now(),
            principal=ANONYMOUS,
            practice_id=world.practice_id,
            practitioner_id=world.practitioner_id,
            duration_minutes=20,
            patient_id=world.holder_patient_id,
            first_day=TUESDAY,
            last_day=TUESDAY,
        )


@pytest.mark.parametrize(
    ("duration", "first", "last", "field"),
    [
        (25, TUESDAY, TUESDAY, "duration_minutes"),  # no visit type lasts 25 minutes
        (15, TUESDAY, TUESDAY, None),  # video, online: fine
        (20, date(2026, 3, 5), date(2026, 3, 4), "last_day"),  # backwards
        (20, date(2026, 2, 20), date(2026, 3, 1), "last_day"),  # over before today
        (20, date(2026, 2, 20), date(2026, 3, 2), None),  # ends today: fine
        (20, TUESDAY, TUESDAY + timedelta(days=121), "last_day"),  # too long
        (20, TUESDAY, TUESDAY + timedelta(days=120), None),  # the longest
    ],
)
def test_join_checks_length_and_days(
    db: Database,
    clock: SettableClock,
    world: World,
    duration: int,
    first: date,
    last: date,
    field: str | None,
) -> None:
    if field is None:
        entry = join(
            db,
            clock,
            world,
            world.holder,
            world.holder_patient_id,
            first,
            last,
            duration_minutes=duration,
        )
        assert entry.status == "waiting"
        return
    with pytest.raises(InvalidInput) as caught:
        join(
            db,
            clock,
            world,
            world.holder,
            world.holder_patient_id,
            first,
            last,
            duration_minutes=duration,
        )
    assert caught.value.field == field


def test_a_practice_only_length_cannot_be_waited_for(
    db: Database, clock: SettableClock, world: World
) -> None:
    with db.write() as session:
        do_add_visit_type(
            session,
            now=clock.now(),
            principal=world.admin.principal(db),
            practice_id=world.practice_id,
            practitioner_id=world.practitioner_id,
            label="Bilan",
            duration_minutes=45,
            online_bookable=False,
        )
    with pytest.raises(InvalidInput) as caught:
        join(db, clock, world, world.holder, world.holder_patient_id, duration_minutes=45)
    assert caught.value.field == "duration_minutes"


def test_a_patient_waits_on_at_most_five_lists(
    db: Database, clock: SettableClock, world: World
) -> None:
    admin = world.admin.principal(db)
    others = []
    with db.write() as session:
        for name in ("Durand", "Moreau"):
            gp = do_add_practitioner(
                session,
                now=clock.now(),
                principal=admin,
                practice_id=world.practice_id,
                first_name="Paul",
                last_name=name,
                specialty=Specialty.GENERAL_PRACTICE,
            )
            do_add_visit_type(
                session,
                now=clock.now(),
                principal=admin,
                practice_id=world.practice_id,
                practitioner_id=gp.practitioner_id,
                label="Consultation",
                duration_minutes=20,
            )
            others.append(gp.practitioner_id)
    lists = [
        (world.practitioner_id, 20),
        (world.practitioner_id, 30),
        (world.practitioner_id, 15),
        (others[0], 20),
        (others[1], 20),
    ]
    entries = [
        join(
            db,
            clock,
            world,
            world.holder,
            world.holder_patient_id,
            duration_minutes=minutes,
            practitioner_id=practitioner,
        )
        for practitioner, minutes in lists
    ]
    wednesday = TUESDAY + timedelta(days=1)  # another list, not a duplicate of one of the five
    with pytest.raises(RuleViolation) as caught:
        join(db, clock, world, world.holder, world.holder_patient_id, wednesday, wednesday)
    assert (caught.value.rule, caught.value.field) == ("waitlist_limit", None)
    # The limit is per patient: the relative waits on their own lists.
    join(db, clock, world, world.holder, world.child_patient_id)
    # A withdrawn entry no longer counts.
    leave(db, clock, world, world.holder, entries[0].entry_id)
    assert join(db, clock, world, world.holder, world.holder_patient_id).status == "waiting"


# --- leaving ---------------------------------------------------------------------------------


def test_leaving_somebody_elses_entry_or_a_missing_one(
    db: Database, clock: SettableClock, world: World
) -> None:
    entry = join(db, clock, world, world.holder, world.holder_patient_id)
    with pytest.raises(Unauthenticated):
        leave(db, clock, world, None, entry.entry_id)
    for entry_id in (entry.entry_id, uuid.uuid4()):
        with pytest.raises(NotFound) as caught:
            leave(db, clock, world, world.stranger, entry_id)
        assert (caught.value.detail, caught.value.field) == ("waitlist entry not found", None)
    assert entry_status(db, world, entry) == "waiting"


def test_leaving_twice(db: Database, clock: SettableClock, world: World) -> None:
    entry = join(db, clock, world, world.holder, world.holder_patient_id)
    assert leave(db, clock, world, world.holder, entry.entry_id).status == "withdrawn"
    with pytest.raises(RuleViolation) as caught:
        leave(db, clock, world, world.holder, entry.entry_id)
    assert (caught.value.rule, caught.value.field) == ("not_waiting", None)


def test_leaving_a_booked_entry(db: Database, clock: SettableClock, world: World) -> None:
    offer = stranger_offered_tuesday(db, clock, world)
    decide(db, clock, world, world.stranger, offer.offer_id, accept=True)
    with pytest.raises(RuleViolation) as caught:
        leave(db, clock, world, world.stranger, offer.entry_id)
    assert caught.value.rule == "not_waiting"
    assert appointment_status(db, world, offer.appointment_id) == Status.BOOKED


def test_leaving_with_an_offer_pending_lets_the_hold_go(
    db: Database, clock: SettableClock, world: World
) -> None:
    offer = stranger_offered_tuesday(db, clock, world)
    left = leave(db, clock, world, world.stranger, offer.entry_id)
    assert left.status == "withdrawn"
    with db.read() as session:
        closed = session.get(WaitlistOffer, (world.practice_id, offer.offer_id))
        assert closed is not None
        assert (closed.outcome, closed.decided_at) == ("declined", clock.now())
    assert appointment_status(db, world, offer.appointment_id) == Status.HOLD_LAPSED
    # The time is free again.
    again = book(db, clock, world, TUE_0900, patient_id=world.child_patient_id)
    assert again.status == Status.BOOKED


def test_list_my_waitlist_needs_a_principal(
    db: Database, clock: SettableClock, world: World
) -> None:
    offer = stranger_offered_tuesday(db, clock, world)
    now = clock.now()
    with db.write() as session:
        with pytest.raises(Unauthenticated):
            list_my_waitlist(session, now=now, principal=ANONYMOUS)
        mine = list_my_waitlist(session, now=now, principal=world.stranger.principal(db))
        theirs = list_my_waitlist(session, now=now, principal=world.holder.principal(db))
    assert [(e.entry_id, o.offer_id if o else None) for e, o in mine] == [
        (offer.entry_id, offer.offer_id)
    ]
    assert theirs == []


# --- deciding --------------------------------------------------------------------------------


def test_deciding_a_missing_or_somebody_elses_offer(
    db: Database, clock: SettableClock, world: World
) -> None:
    offer = stranger_offered_tuesday(db, clock, world)
    for person, offer_id in (
        (world.stranger, uuid.uuid4()),
        (world.holder, offer.offer_id),
        (world.secretary, offer.offer_id),
    ):
        for accept in (True, False):
            with pytest.raises(NotFound) as caught:
                decide(db, clock, world, person, offer_id, accept=accept)
            assert (caught.value.detail, caught.value.field) == ("offer not found", None)
    with pytest.raises(Unauthenticated):
        decide(db, clock, world, None, offer.offer_id, accept=True)
    assert offers_of(db, offer)[0].outcome == "pending"


@pytest.mark.parametrize("first", [True, False])
@pytest.mark.parametrize("then", [True, False])
def test_an_offer_is_decided_once(
    db: Database, clock: SettableClock, world: World, first: bool, then: bool
) -> None:
    offer = stranger_offered_tuesday(db, clock, world)
    decide(db, clock, world, world.stranger, offer.offer_id, accept=first)
    with pytest.raises(RuleViolation) as caught:
        decide(db, clock, world, world.stranger, offer.offer_id, accept=then)
    assert (caught.value.rule, caught.value.field) == ("offer_closed", None)
    expected = Status.BOOKED if first else Status.HOLD_LAPSED
    assert appointment_status(db, world, offer.appointment_id) == expected


@pytest.mark.parametrize("accept", [True, False])
def test_an_expired_offer_cannot_be_decided(
    db: Database, clock: SettableClock, world: World, accept: bool
) -> None:
    offer = stranger_offered_tuesday(db, clock, world)
    clock.set(offer.expires_at)
    with pytest.raises(RuleViolation) as caught:
        decide(db, clock, world, world.stranger, offer.offer_id, accept=accept)
    assert (caught.value.rule, caught.value.field) == ("offer_expired", None)
    assert appointment_status(db, world, offer.appointment_id) == Status.HELD


def test_an_offer_lapsed_by_a_booking_is_closed(
    db: Database, clock: SettableClock, world: World
) -> None:
    """A booking over an expired hold lapses it; the patient then reads 'closed', not 'expired'."""
    offer = stranger_offered_tuesday(db, clock, world)
    clock.set(offer.expires_at + timedelta(minutes=1))
    book(db, clock, world, TUE_0900, patient_id=world.child_patient_id)
    with pytest.raises(RuleViolation) as caught:
        decide(db, clock, world, world.stranger, offer.offer_id, accept=True)
    assert caught.value.rule == "offer_closed"


def test_an_expired_hold_elsewhere_in_the_day_is_left_to_the_upkeep(
    db: Database, clock: SettableClock, world: World
) -> None:
    """A booking lapses only the expired holds in its way; the others wait for the worker."""
    offer = stranger_offered_tuesday(db, clock, world)  # Tuesday 09:00-09:20
    clock.set(offer.expires_at + timedelta(minutes=1))
    book(db, clock, world, TUE_0900 + timedelta(hours=1), patient_id=world.child_patient_id)
    assert appointment_status(db, world, offer.appointment_id) == Status.HELD
    assert [o.outcome for o in offers_of(db, offer)] == ["pending"]


# --- the offer of freed time -------------------------------------------------------------------


def test_time_already_started_is_offered_to_nobody(
    db: Database, clock: SettableClock, world: World
) -> None:
    entry = join(db, clock, world, world.stranger, world.stranger_patient_id)
    with db.write() as session:
        for starts_at in (clock.now(), clock.now() - timedelta(hours=1)):
            offered = offer_freed_time(
                session,
                now=clock.now(),
                principal=ANONYMOUS,
                practice_id=world.practice_id,
                practitioner_id=world.practitioner_id,
                starts_at=starts_at,
            )
            assert offered is None
    assert offers_of(db, entry) == []


def test_entries_the_slot_does_not_suit_are_passed_over(
    db: Database, clock: SettableClock, world: World
) -> None:
    taken = book(db, clock, world, TUE_0900)
    # First in line: already has an appointment two days later (anti-hoarding).
    hoarder = make_person(db, clock, "Hoarding Hugo")
    hoarder_patient = make_patient(db, clock, hoarder, "Hugues", "Roy")
    book(db, clock, world, TUE_0900 + timedelta(days=2), person=hoarder, patient_id=hoarder_patient)
    first = join(db, clock, world, hoarder, hoarder_patient)
    # Second: wants a first visit (new patients only), but was seen by the doctor already.
    seen = make_person(db, clock, "Seen Sarah")
    seen_patient = make_patient(db, clock, seen, "Sarah", "Leroy")
    past = book(db, clock, world, MON_0900, person=seen, patient_id=seen_patient)
    clock.set(past.ends_at)
    with db.write() as session:
        do_mark_appointment(
            session,
            now=clock.now(),
            principal=world.doctor.principal(db),
            practice_id=world.practice_id,
            appointment_id=past.appointment_id,
            outcome=Status.DONE,
        )
    second = join(db, clock, world, seen, seen_patient, duration_minutes=30)
    # Third: wants 30 minutes too, and is new: Tuesday 09:00-09:30 fits.
    third = join(db, clock, world, world.stranger, world.stranger_patient_id, duration_minutes=30)
    cancel(db, clock, world, taken.appointment_id)
    assert offers_of(db, first) == []
    assert offers_of(db, second) == []
    [offer] = offers_of(db, third)
    assert entry_status(db, world, third) == "offered"
    with db.read() as session:
        hold = session.get(Appointment, (world.practice_id, offer.appointment_id))
        assert hold is not None
        assert (hold.starts_at, hold.ends_at) == (TUE_0900, TUE_0900 + timedelta(minutes=30))


def test_time_too_soon_to_book_online_is_not_offered(
    db: Database, clock: SettableClock, world: World
) -> None:
    """Freed within the agenda's notice (an hour), the slot is nobody's online."""
    taken = book(db, clock, world, TUE_0900)
    entry = join(db, clock, world, world.stranger, world.stranger_patient_id)
    clock.set(TUE_0900 - timedelta(minutes=30))
    cancel(db, clock, world, taken.appointment_id)
    assert offers_of(db, entry) == []
    assert entry_status(db, world, entry) == "waiting"


def test_an_expired_hold_in_the_way_is_lapsed_to_make_the_offer(
    db: Database, clock: SettableClock, world: World
) -> None:
    two = TUE_0900 + timedelta(hours=5)  # 14:00, video visits of 15 minutes in the afternoon
    first = book(db, clock, world, two, duration_minutes=15)
    second = book(
        db,
        clock,
        world,
        two + timedelta(minutes=15),
        patient_id=world.child_patient_id,
        duration_minutes=15,
    )
    short = join(db, clock, world, world.stranger, world.stranger_patient_id, duration_minutes=15)
    cancel(db, clock, world, second.appointment_id)
    [held] = offers_of(db, short)  # 14:15-14:30, held for 30 minutes
    clock.advance(timedelta(minutes=31))  # expired; the worker has not run
    other = make_person(db, clock, "Waiting Wendy")
    other_patient = make_patient(db, clock, other, "Wendy", "Blanc")
    long = join(db, clock, world, other, other_patient)
    cancel(db, clock, world, first.appointment_id)  # 14:00-14:20 runs into the expired hold
    [offer] = offers_of(db, long)
    assert offer.outcome == "pending"
    [lapsed] = offers_of(db, short)
    assert lapsed.outcome == "lapsed"
    assert appointment_status(db, world, held.appointment_id) == Status.HOLD_LAPSED


# --- over HTTP ---------------------------------------------------------------------------------


@pytest.fixture
def client(db: Database, clock: SettableClock) -> Iterator[TestClient]:
    with app_client(db, clock) as test_client:
        yield test_client


def test_waitlist_refusals_over_http(
    client: TestClient, db: Database, clock: SettableClock, world: World
) -> None:
    body = {
        "practice_id": str(world.practice_id),
        "practitioner_id": str(world.practitioner_id),
        "duration_minutes": 20,
        "patient_id": str(world.holder_patient_id),
        "first_day": "2026-03-03",
        "last_day": "2026-03-05",
    }
    holder = bearer(world.holder)
    problem(
        client.post("/api/v1/waitlist", json=body, headers=bearer(world.stranger)),
        404,
        field="patient_id",
    )
    problem(
        client.post("/api/v1/waitlist", json={**body, "last_day": "2026-03-01"}, headers=holder),
        422,
        field="last_day",
    )
    joined = client.post("/api/v1/waitlist", json=body, headers=holder)
    assert joined.status_code == 201, joined.text
    where = f"/api/v1/practices/{world.practice_id}/waitlist/{joined.json()['entry_id']}"
    problem(client.delete(where, headers=bearer(world.stranger)), 404)
    left = client.delete(where, headers=holder)
    assert left.status_code == 200, left.text
    assert left.json()["status"] == "withdrawn"
    assert left.json()["pending_offer"] is None
    problem(client.delete(where, headers=holder), 422, rule="not_waiting")
    offer = stranger_offered_tuesday(db, clock, world)
    decision = f"/api/v1/practices/{world.practice_id}/waitlist-offers/{offer.offer_id}/decision"
    problem(client.post(decision, json={"accept": True}, headers=holder), 404)
    declined = client.post(decision, json={"accept": False}, headers=bearer(world.stranger))
    assert declined.json()["outcome"] == "declined"
    again = client.post(decision, json={"accept": True}, headers=bearer(world.stranger))
    problem(again, 422, rule="offer_closed")


def test_a_hold_lapsed_by_a_booking_puts_its_entry_back_in_line(
    db: Database, clock: SettableClock, world: World
) -> None:
    """As when the upkeep lapses it (lapse_due_offers): the entry waits again for other time."""
    offer = stranger_offered_tuesday(db, clock, world)
    clock.set(offer.expires_at + timedelta(minutes=1))
    book(db, clock, world, TUE_0900, patient_id=world.child_patient_id)
    [lapsed] = offers_of(db, offer)
    assert lapsed.outcome == "lapsed"
    with db.read() as session:
        entry = session.get(WaitlistEntry, (world.practice_id, offer.entry_id))
        assert entry is not None
    assert entry.status == "waiting"
    # And the next freed time of its days is offered to it.
    later = book(db, clock, world, TUE_0900 + timedelta(hours=2))
    cancel(db, clock, world, later.appointment_id)
    assert [o.outcome for o in offers_of(db, offer)] == ["lapsed", "pending"]


def test_leaving_with_an_offer_pending_passes_the_time_on(
    db: Database, clock: SettableClock, world: World
) -> None:
    """The held time is freed: like a declined offer, it goes to the next in line."""
    taken = book(db, clock, world, TUE_0900)
    first = join(db, clock, world, world.stranger, world.stranger_patient_id)
    clock.advance(timedelta(seconds=1))
    other = make_person(db, clock, "Waiting Wendy")
    other_patient = make_patient(db, clock, other, "Wendy", "Blanc")
    second = join(db, clock, world, other, other_patient)
    cancel(db, clock, world, taken.appointment_id)
    [offer] = offers_of(db, first)
    leave(db, clock, world, world.stranger, first.entry_id)
    [passed_on] = offers_of(db, second)
    assert passed_on.outcome == "pending"
    with db.read() as session:
        hold = session.get(Appointment, (world.practice_id, passed_on.appointment_id))
        assert hold is not None
        assert (hold.status, hold.starts_at) == (Status.HELD, TUE_0900)
    assert appointment_status(db, world, offer.appointment_id) == Status.HOLD_LAPSED
