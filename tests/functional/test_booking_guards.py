"""Every refusal of the booking state machine, through the services and over HTTP.

An appointment is booked, then cancelled (by the patient or the practice), moved, or marked done
or no-show once it started. A waitlist hold is 'held' until its offer is decided; a hold let go is
'hold_lapsed' and no longer exists for anybody. Each refusal names its rule (or its field).
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError, OperationalError

from colloque.accounts.grants import do_grant_operator_access
from colloque.booking.access import list_my_appointments, list_practice_agenda
from colloque.booking.changes import (
    do_cancel_appointment,
    do_mark_appointment,
    do_reschedule_appointment,
)
from colloque.booking.ledger import translate_overlap
from colloque.booking.models import Appointment, AppointmentEvent
from colloque.booking.reasons import SealedReason
from colloque.booking.rules import CancelReason, Source, Status
from colloque.booking.services import BookingRequest, do_book_appointment
from colloque.booking.waitlist.models import WaitlistOffer
from colloque.booking.waitlist.offers import do_decide_offer
from colloque.booking.waitlist.services import do_join_waitlist
from colloque.clock import SettableClock
from colloque.errors import (
    InvalidInput,
    NotFound,
    RuleViolation,
    SlotTaken,
    Unauthenticated,
    UnusableId,
)
from colloque.principal import ANONYMOUS
from colloque.storage.engine import Database
from tests.factories import Person, World, book, build_world
from tests.functional.authorization.conftest import make_operator
from tests.functional.http import app_client, bearer, problem

# T0 is Monday 2026-03-02 08:00 in Paris (UTC+1). Openings: 09:00-12:00 and 14:00-18:00.
MON_0900 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
TUE_0900 = MON_0900 + timedelta(days=1)


@pytest.fixture
def world(db: Database, clock: SettableClock) -> World:
    return build_world(db, clock)


@pytest.fixture
def client(db: Database, clock: SettableClock) -> Iterator[TestClient]:
    with app_client(db, clock) as test_client:
        yield test_client


def cancel(
    db: Database,
    clock: SettableClock,
    world: World,
    person: Person,
    appointment_id: UUID,
    reason: CancelReason = CancelReason.OTHER,
) -> Appointment:
    with db.write() as session:
        return do_cancel_appointment(
            session,
            now=clock.now(),
            principal=person.principal(db),
            practice_id=world.practice_id,
            appointment_id=appointment_id,
            reason=reason,
        ).appointment


def reschedule(
    db: Database,
    clock: SettableClock,
    world: World,
    person: Person,
    appointment_id: UUID,
    new_starts_at: datetime,
) -> Appointment:
    with db.write() as session:
        return do_reschedule_appointment(
            session,
            now=clock.now(),
            principal=person.principal(db),
            practice_id=world.practice_id,
            appointment_id=appointment_id,
            new_starts_at=new_starts_at,
        ).appointment


def mark(
    db: Database,
    clock: SettableClock,
    world: World,
    person: Person,
    appointment_id: UUID,
    outcome: Status,
) -> Appointment:
    with db.write() as session:
        return do_mark_appointment(
            session,
            now=clock.now(),
            principal=person.principal(db),
            practice_id=world.practice_id,
            appointment_id=appointment_id,
            outcome=outcome,
        ).appointment


def status_of(db: Database, world: World, appointment_id: UUID) -> str:
    with db.read() as session:
        appointment = session.get(Appointment, (world.practice_id, appointment_id))
        assert appointment is not None
        return appointment.status


def events_of(db: Database, appointment_id: UUID) -> int:
    with db.read() as session:
        return (
            session.scalar(
                select(func.count())
                .select_from(AppointmentEvent)
                .where(AppointmentEvent.appointment_id == appointment_id)
            )
            or 0
        )


# --- scenes: an appointment in each state, and who manages its patient ---------------------


Scene = tuple[UUID, Person]


def _cancelled_by_patient(db: Database, clock: SettableClock, world: World) -> Scene:
    appointment = book(db, clock, world, TUE_0900)
    cancel(db, clock, world, world.holder, appointment.appointment_id)
    return appointment.appointment_id, world.holder


def _cancelled_by_practice(db: Database, clock: SettableClock, world: World) -> Scene:
    appointment = book(db, clock, world, TUE_0900)
    cancel(db, clock, world, world.secretary, appointment.appointment_id)
    return appointment.appointment_id, world.holder


def _marked(outcome: Status) -> Callable[[Database, SettableClock, World], Scene]:
    def scene(db: Database, clock: SettableClock, world: World) -> Scene:
        appointment = book(db, clock, world, MON_0900)
        clock.set(appointment.ends_at + timedelta(minutes=5))
        mark(db, clock, world, world.doctor, appointment.appointment_id, outcome)
        return appointment.appointment_id, world.holder

    return scene


def offer_to_stranger(db: Database, clock: SettableClock, world: World) -> WaitlistOffer:
    """The holder's Tuesday 09:00 is cancelled by the practice; the waiting stranger gets a hold."""
    taken = book(db, clock, world, TUE_0900)
    with db.write() as session:
        entry = do_join_waitlist(
            session,
            now=clock.now(),
            principal=world.stranger.principal(db),
            practice_id=world.practice_id,
            practitioner_id=world.practitioner_id,
            duration_minutes=20,
            patient_id=world.stranger_patient_id,
            first_day=date(2026, 3, 3),
            last_day=date(2026, 3, 3),
        )
    cancel(db, clock, world, world.secretary, taken.appointment_id)
    with db.read() as session:
        offer = session.scalar(
            select(WaitlistOffer).where(WaitlistOffer.entry_id == entry.entry_id)
        )
    assert offer is not None
    return offer


def _held(db: Database, clock: SettableClock, world: World) -> Scene:
    offer = offer_to_stranger(db, clock, world)
    return offer.appointment_id, world.stranger


SCENES: dict[str, Callable[[Database, SettableClock, World], Scene]] = {
    Status.CANCELLED_BY_PATIENT: _cancelled_by_patient,
    Status.CANCELLED_BY_PRACTICE: _cancelled_by_practice,
    Status.DONE: _marked(Status.DONE),
    Status.NO_SHOW: _marked(Status.NO_SHOW),
    Status.HELD: _held,
}


@pytest.mark.parametrize("state", sorted(SCENES))
@pytest.mark.parametrize("by", ["patient", "practice"])
def test_only_a_booked_appointment_can_be_cancelled_or_moved(
    db: Database, clock: SettableClock, world: World, state: str, by: str
) -> None:
    appointment_id, holder = SCENES[state](db, clock, world)
    person = holder if by == "patient" else world.secretary
    before = events_of(db, appointment_id)
    with pytest.raises(RuleViolation) as cancelling:
        cancel(db, clock, world, person, appointment_id)
    assert (cancelling.value.rule, cancelling.value.field) == ("not_booked", None)
    assert cancelling.value.detail == "only a booked appointment can be cancelled"
    with pytest.raises(RuleViolation) as moving:
        reschedule(db, clock, world, person, appointment_id, TUE_0900 + timedelta(days=1))
    assert (moving.value.rule, moving.value.field) == ("not_booked", None)
    assert moving.value.detail == "only a booked appointment can be moved"
    assert status_of(db, world, appointment_id) == state
    assert events_of(db, appointment_id) == before


@pytest.mark.parametrize("state", sorted(SCENES))
def test_only_a_booked_appointment_can_be_marked(
    db: Database, clock: SettableClock, world: World, state: str
) -> None:
    appointment_id, holder = SCENES[state](db, clock, world)
    clock.set(TUE_0900 + timedelta(hours=1))  # every scene has started by now
    for outcome in (Status.DONE, Status.NO_SHOW):
        with pytest.raises(RuleViolation) as caught:
            mark(db, clock, world, world.secretary, appointment_id, outcome)
        assert (caught.value.rule, caught.value.field) == ("not_booked", None)
        # The patient's side never marks: the appointment does not exist for them here.
        with pytest.raises(NotFound, match="appointment not found"):
            mark(db, clock, world, holder, appointment_id, outcome)
    assert status_of(db, world, appointment_id) == state


def test_marking_twice_is_refused(db: Database, clock: SettableClock, world: World) -> None:
    appointment = book(db, clock, world, MON_0900)
    clock.set(MON_0900 + timedelta(minutes=25))
    assert mark(db, clock, world, world.doctor, appointment.appointment_id, Status.DONE).status == (
        Status.DONE
    )
    with pytest.raises(RuleViolation) as caught:
        mark(db, clock, world, world.doctor, appointment.appointment_id, Status.NO_SHOW)
    assert caught.value.rule == "not_booked"
    assert status_of(db, world, appointment.appointment_id) == Status.DONE


def test_a_future_appointment_cannot_be_marked(
    db: Database, clock: SettableClock, world: World
) -> None:
    appointment = book(db, clock, world, TUE_0900)
    clock.set(TUE_0900 - timedelta(microseconds=1))
    for outcome in (Status.DONE, Status.NO_SHOW):
        with pytest.raises(RuleViolation) as caught:
            mark(db, clock, world, world.secretary, appointment.appointment_id, outcome)
        assert (caught.value.rule, caught.value.field) == ("in_the_future", None)
    clock.set(TUE_0900)  # from its first instant on, it can
    marked = mark(db, clock, world, world.secretary, appointment.appointment_id, Status.NO_SHOW)
    assert marked.status == Status.NO_SHOW


@pytest.mark.parametrize(
    "outcome",
    [s for s in Status if s not in (Status.DONE, Status.NO_SHOW)],
)
def test_marking_takes_only_done_or_no_show(
    db: Database, clock: SettableClock, world: World, outcome: Status
) -> None:
    appointment = book(db, clock, world, MON_0900)
    clock.set(MON_0900 + timedelta(minutes=25))
    with pytest.raises(InvalidInput) as caught:
        mark(db, clock, world, world.secretary, appointment.appointment_id, outcome)
    assert caught.value.field == "outcome"
    assert status_of(db, world, appointment.appointment_id) == Status.BOOKED


@pytest.mark.parametrize("by", ["patient", "practice"])
def test_a_started_appointment_cannot_be_cancelled_or_moved(
    db: Database, clock: SettableClock, world: World, by: str
) -> None:
    appointment = book(db, clock, world, TUE_0900)
    person = world.holder if by == "patient" else world.secretary
    clock.set(TUE_0900)
    with pytest.raises(RuleViolation) as cancelling:
        cancel(db, clock, world, person, appointment.appointment_id)
    assert (cancelling.value.rule, cancelling.value.field) == ("in_the_past", None)
    with pytest.raises(RuleViolation) as moving:
        reschedule(db, clock, world, person, appointment.appointment_id, TUE_0900 + timedelta(1))
    assert (moving.value.rule, moving.value.field) == ("in_the_past", None)
    assert status_of(db, world, appointment.appointment_id) == Status.BOOKED


def test_a_lapsed_hold_exists_for_nobody(db: Database, clock: SettableClock, world: World) -> None:
    offer = offer_to_stranger(db, clock, world)
    with db.write() as session:
        do_decide_offer(
            session,
            now=clock.now(),
            principal=world.stranger.principal(db),
            practice_id=world.practice_id,
            offer_id=offer.offer_id,
            accept=False,
        )
    assert status_of(db, world, offer.appointment_id) == Status.HOLD_LAPSED
    for person in (world.stranger, world.secretary):
        with pytest.raises(NotFound) as caught:
            cancel(db, clock, world, person, offer.appointment_id)
        assert (caught.value.detail, caught.value.field) == ("appointment not found", None)


def test_moving_to_the_same_time_is_refused(
    db: Database, clock: SettableClock, world: World
) -> None:
    appointment = book(db, clock, world, TUE_0900)
    with pytest.raises(InvalidInput) as caught:
        reschedule(db, clock, world, world.holder, appointment.appointment_id, TUE_0900)
    assert caught.value.field == "starts_at"
    assert events_of(db, appointment.appointment_id) == 1


def test_the_patient_moves_only_before_the_cutoff_the_practice_any_time(
    db: Database, clock: SettableClock, world: World
) -> None:
    appointment = book(db, clock, world, TUE_0900)
    clock.set(TUE_0900 - timedelta(hours=3))  # the cut-off is 4 hours
    later = TUE_0900 + timedelta(hours=6)  # 15:00, same day
    with pytest.raises(RuleViolation) as caught:
        reschedule(db, clock, world, world.holder, appointment.appointment_id, later)
    assert (caught.value.rule, caught.value.field) == ("cancellation_cutoff", None)
    moved = reschedule(db, clock, world, world.secretary, appointment.appointment_id, later)
    assert moved.starts_at == later
    with db.read() as session:
        kinds = session.scalars(
            select(AppointmentEvent.actor_role).where(
                AppointmentEvent.appointment_id == appointment.appointment_id,
                AppointmentEvent.kind == "rescheduled",
            )
        ).all()
    assert kinds == ["secretary"]


def test_anti_hoarding_holds_for_the_patient_not_for_the_practice(
    db: Database, clock: SettableClock, world: World
) -> None:
    first = book(db, clock, world, TUE_0900)
    far = book(db, clock, world, TUE_0900 + timedelta(days=14))
    # Moving the far one next to the first: too close for the patient.
    near = TUE_0900 + timedelta(days=2)
    with pytest.raises(RuleViolation) as caught:
        reschedule(db, clock, world, world.holder, far.appointment_id, near)
    assert (caught.value.rule, caught.value.field) == ("anti_hoarding", "starts_at")
    # The appointment itself does not count against its own move.
    assert reschedule(db, clock, world, world.holder, first.appointment_id, near).starts_at == near
    # The practice may put two appointments close together.
    moved = reschedule(db, clock, world, world.secretary, far.appointment_id, near + timedelta(1))
    assert moved.starts_at == near + timedelta(days=1)


def test_a_move_is_checked_against_the_agenda(
    db: Database, clock: SettableClock, world: World
) -> None:
    appointment = book(db, clock, world, TUE_0900)
    lunch = TUE_0900 + timedelta(hours=4)
    for person in (world.holder, world.secretary):
        with pytest.raises(RuleViolation) as caught:
            reschedule(db, clock, world, person, appointment.appointment_id, lunch)
        assert (caught.value.rule, caught.value.field) == ("closed", "starts_at")


# --- booking ---------------------------------------------------------------------------------


def request(world: World, **changes: Any) -> BookingRequest:
    base = BookingRequest(
        practice_id=world.practice_id,
        practitioner_id=world.practitioner_id,
        patient_id=world.holder_patient_id,
        starts_at=TUE_0900,
        duration_minutes=20,
    )
    return dataclasses.replace(base, **changes)


def book_request(
    db: Database, clock: SettableClock, person: Person | None, booking: BookingRequest
) -> Appointment:
    with db.write() as session:
        return do_book_appointment(
            session,
            now=clock.now(),
            principal=person.principal(db) if person else ANONYMOUS,
            request=booking,
            source=Source.ONLINE,
        )


def appointments(db: Database) -> int:
    with db.read() as session:
        return session.scalar(select(func.count()).select_from(Appointment)) or 0


@pytest.mark.parametrize("source", [Source.ONLINE, Source.PRACTICE, Source.INTEGRATION])
def test_booking_needs_a_signed_in_principal(
    db: Database, clock: SettableClock, world: World, source: Source
) -> None:
    with pytest.raises(Unauthenticated), db.write() as session:
        do_book_appointment(
            session, now=clock.now(), principal=ANONYMOUS, request=request(world), source=source
        )
    assert appointments(db) == 0


def test_booking_a_missing_patient(db: Database, clock: SettableClock, world: World) -> None:
    with pytest.raises(NotFound) as missing:
        book_request(db, clock, world.holder, request(world, patient_id=uuid.uuid4()))
    with pytest.raises(NotFound) as theirs:
        book_request(db, clock, world.holder, request(world, patient_id=world.stranger_patient_id))
    for caught in (missing, theirs):
        assert (caught.value.detail, caught.value.field) == ("patient not found", "patient_id")


def test_a_sealed_reason_needs_its_appointment_id(
    db: Database, clock: SettableClock, world: World
) -> None:
    sealed = SealedReason(envelope=b"\x01" * 64, wraps=(b"\x02" * 32,))
    with pytest.raises(InvalidInput) as caught:
        book_request(db, clock, world.holder, request(world, sealed_reason=sealed))
    assert caught.value.field == "appointment_id"
    assert appointments(db) == 0


def test_a_chosen_appointment_id_must_be_random_and_unused(
    db: Database, clock: SettableClock, world: World
) -> None:
    with pytest.raises(UnusableId) as not_random:
        book_request(db, clock, world.holder, request(world, appointment_id=uuid.uuid1()))
    assert not_random.value.field == "appointment_id"
    chosen = uuid.uuid4()
    booked = book_request(db, clock, world.holder, request(world, appointment_id=chosen))
    assert booked.appointment_id == chosen
    again = request(
        world,
        appointment_id=chosen,
        patient_id=world.child_patient_id,
        starts_at=TUE_0900 + timedelta(hours=1),
    )
    # Used, even by oneself: the same answer as not random (test_id_oracles.py over HTTP).
    with pytest.raises(UnusableId) as used:
        book_request(db, clock, world.holder, again)
    assert (used.value.detail, used.value.field) == (not_random.value.detail, "appointment_id")
    assert appointments(db) == 1


def test_an_overlap_caught_by_the_database_is_a_409_anything_else_is_not() -> None:
    class Exclusion(Exception):
        sqlstate = "23P01"

    class Unique(Exception):
        sqlstate = "23505"

    with pytest.raises(SlotTaken) as caught, translate_overlap():
        raise IntegrityError("INSERT", {}, Exclusion())
    assert caught.value.field == "starts_at"
    with pytest.raises(IntegrityError), translate_overlap():
        raise IntegrityError("INSERT", {}, Unique())

    # Two racing overlapping inserts wait for each other; PostgreSQL fails one as a deadlock
    # found while checking the constraint: a loser of the race too. Any other deadlock is not.
    class Diag:
        def __init__(self, context: str | None) -> None:
            self.context = context

    class Deadlock(Exception):
        sqlstate = "40P01"

        def __init__(self, context: str | None) -> None:
            super().__init__("deadlock detected")
            self.diag = Diag(context)

    racing = 'while checking exclusion constraint on tuple (1,33) in relation "practitioner_busy"'
    with pytest.raises(SlotTaken), translate_overlap():
        raise OperationalError("INSERT", {}, Deadlock(racing))
    for context in ('while updating tuple (0,1) in relation "accounts"', None):
        with pytest.raises(OperationalError), translate_overlap():
            raise OperationalError("UPDATE", {}, Deadlock(context))


def test_naive_instants_never_reach_the_database(
    db: Database, clock: SettableClock, world: World
) -> None:
    naive = TUE_0900.replace(tzinfo=None)
    with pytest.raises(InvalidInput, match="offset") as caught:
        book_request(db, clock, world.holder, request(world, starts_at=naive))
    assert caught.value.field == "starts_at"
    assert appointments(db) == 0


# --- reading ---------------------------------------------------------------------------------


def test_lists_refuse_anonymous_and_filter(
    db: Database, clock: SettableClock, world: World
) -> None:
    past = book(db, clock, world, MON_0900)
    upcoming = book(db, clock, world, TUE_0900 + timedelta(days=7))
    clock.set(MON_0900 + timedelta(hours=1))
    with db.write() as session:
        with pytest.raises(Unauthenticated):
            list_my_appointments(session, now=clock.now(), principal=ANONYMOUS)
        every = list_my_appointments(session, now=clock.now(), principal=world.holder.principal(db))
        soon = list_my_appointments(
            session, now=clock.now(), principal=world.holder.principal(db), upcoming_only=True
        )
    assert [r.appointment.appointment_id for r in every] == [
        past.appointment_id,
        upcoming.appointment_id,
    ]
    assert [r.appointment.appointment_id for r in soon] == [upcoming.appointment_id]


@pytest.mark.parametrize(
    ("start", "until"),
    [
        (MON_0900, MON_0900),  # empty
        (MON_0900, MON_0900 - timedelta(hours=1)),  # backwards
        (MON_0900, MON_0900 + timedelta(days=31, microseconds=1)),  # too long
    ],
)
def test_the_agenda_window_is_positive_and_at_most_31_days(
    db: Database, clock: SettableClock, world: World, start: datetime, until: datetime
) -> None:
    with pytest.raises(InvalidInput) as caught, db.write() as session:
        list_practice_agenda(
            session,
            now=clock.now(),
            principal=world.secretary.principal(db),
            practice_id=world.practice_id,
            start=start,
            until=until,
        )
    assert caught.value.field == "until"


def test_the_agenda_of_one_practitioner(db: Database, clock: SettableClock, world: World) -> None:
    booked = book(db, clock, world, TUE_0900)
    with db.write() as session:
        rows = {
            who: list_practice_agenda(
                session,
                now=clock.now(),
                principal=world.secretary.principal(db),
                practice_id=world.practice_id,
                start=MON_0900,
                until=MON_0900 + timedelta(days=31),
                practitioner_id=who,
            )
            for who in (world.practitioner_id, world.practice_id)
        }
    assert [r.appointment.appointment_id for r in rows[world.practitioner_id]] == [
        booked.appointment_id
    ]
    assert rows[world.practice_id] == []


# --- over HTTP: the problems each refusal becomes ---------------------------------------------


def url(world: World, appointment_id: UUID | str, action: str = "") -> str:
    base = f"/api/v1/practices/{world.practice_id}/appointments/{appointment_id}"
    return f"{base}/{action}" if action else base


def test_refusals_over_http(
    client: TestClient, db: Database, clock: SettableClock, world: World
) -> None:
    appointment = book(db, clock, world, TUE_0900)
    target = appointment.appointment_id
    holder, secretary = bearer(world.holder), bearer(world.secretary)
    same = {"starts_at": TUE_0900.isoformat()}
    problem(
        client.post(url(world, target, "reschedule"), json=same, headers=holder),
        422,
        field="starts_at",
    )
    naive = {"starts_at": "2026-03-03T10:00:00"}
    problem(
        client.post(url(world, target, "reschedule"), json=naive, headers=holder),
        422,
        field="starts_at",
    )
    problem(
        client.post(url(world, target, "mark"), json={"outcome": "done"}, headers=secretary),
        422,
        rule="in_the_future",
    )
    problem(
        client.post(url(world, target, "mark"), json={"outcome": "booked"}, headers=secretary),
        422,
        field="outcome",
    )
    problem(
        client.post(url(world, target, "mark"), json={"outcome": "done"}, headers=holder),
        404,
    )
    later = {"starts_at": (TUE_0900 + timedelta(hours=1)).isoformat()}
    moved = client.post(url(world, target, "reschedule"), json=later, headers=holder)
    assert moved.status_code == 200, moved.text
    assert moved.json()["starts_at"] == "2026-03-03T09:00:00Z"
    assert moved.json()["sealed_reason"] is None
    clock.set(TUE_0900 + timedelta(hours=2))
    marked = client.post(url(world, target, "mark"), json={"outcome": "done"}, headers=secretary)
    assert marked.status_code == 200, marked.text
    assert marked.json()["status"] == "done"
    again = client.post(url(world, target, "mark"), json={"outcome": "no_show"}, headers=secretary)
    problem(again, 422, rule="not_booked")
    cancelled = client.post(url(world, target, "cancel"), json={"reason": "other"}, headers=holder)
    problem(cancelled, 422, rule="not_booked")
    moving = client.post(url(world, target, "reschedule"), json=later, headers=holder)
    problem(moving, 422, rule="not_booked")


def test_a_granted_operator_reads_but_is_refused_every_change(
    client: TestClient, db: Database, clock: SettableClock, world: World
) -> None:
    appointment = book(db, clock, world, TUE_0900)
    operator = make_operator(db, clock)
    with db.write() as session:
        do_grant_operator_access(
            session,
            now=clock.now(),
            principal=world.admin.principal(db),
            practice_id=world.practice_id,
            operator_account_id=operator.account_id,
            duration=timedelta(hours=48),
        )
    headers = bearer(operator)
    target = appointment.appointment_id
    read = client.get(url(world, target), headers=headers)
    assert read.status_code == 200, read.text
    assert read.json()["sealed_reason"] is None
    later = {"starts_at": (TUE_0900 + timedelta(hours=1)).isoformat()}
    for action, body in (("cancel", {"reason": "other"}), ("reschedule", later)):
        problem(client.post(url(world, target, action), json=body, headers=headers), 403)
    clock.set(TUE_0900 + timedelta(minutes=30))
    problem(client.post(url(world, target, "mark"), json={"outcome": "done"}, headers=headers), 403)
    assert status_of(db, world, target) == Status.BOOKED


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("agenda", {"from": "2026-03-02T00:00:00", "until": "2026-03-03T00:00:00Z"}, "from"),
        ("agenda", {"from": "2026-03-02T00:00:00Z", "until": "2026-03-03T00:00:00"}, "until"),
        ("slots", {"from": "2026-03-02T00:00:00", "duration_minutes": "20"}, "from"),
    ],
)
def test_the_api_refuses_naive_instants(
    client: TestClient, world: World, path: str, params: dict[str, str], field: str
) -> None:
    where = (
        f"/api/v1/practices/{world.practice_id}/agenda"
        if path == "agenda"
        else f"/api/v1/practices/{world.practice_id}/practitioners/{world.practitioner_id}/slots"
    )
    problem(client.get(where, params=params, headers=bearer(world.secretary)), 422, field=field)


def test_my_appointments_when_there_are_none(client: TestClient, world: World) -> None:
    mine = client.get("/api/v1/me/appointments", headers=bearer(world.holder))
    assert mine.status_code == 200
    assert mine.json() == []
