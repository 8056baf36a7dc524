"""Zero double booking under real concurrency: many HTTP clients race for a few slots.

The server is real uvicorn on loopback, the database a real SQLite file or the real PostgreSQL
server. Each round, 60 clients (distinct patients) fire at once at 3 slots. Each slot must get
exactly one winner, every loser a 409 problem saying the slot was just taken, and the database
must hold exactly one active appointment per slot.

One practitioner, one body: the GP also works at a second practice whose hours overlap the
first's, and 60 clients race for one instant of the GP through both practices: by booking, by
moving their appointments there, and with a waitlist offer's acceptance. Exactly one wins each
time (on PostgreSQL, where the two practices' agendas lock apart and only the practitioner's busy
ledger stands between them; SQLite serializes every write).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta
from uuid import UUID

import httpx2
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from colloque.accounts.models import Account
from colloque.accounts.services import principal_for_account
from colloque.api.app import create_app
from colloque.booking.changes import do_cancel_appointment
from colloque.booking.models import ACTIVE_STATUSES, Appointment, PractitionerBusy
from colloque.booking.rules import CancelReason, Source
from colloque.booking.services import BookingRequest, do_book_appointment
from colloque.booking.waitlist.models import WaitlistOffer
from colloque.booking.waitlist.services import do_join_waitlist
from colloque.clock import SettableClock
from colloque.config import Settings
from colloque.principal import Principal
from colloque.scheduling.services import do_update_practice_settings
from colloque.storage.engine import Database
from tests.factories import (
    Person,
    World,
    add_second_practice,
    build_world,
    make_patient,
    make_person,
)
from tests.server import running_server

CLIENTS = 60
ROUNDS = 4
SLOTS_PER_ROUND = 3
MON_0900 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


BOOK = "/api/v1/appointments"


async def _race(
    base_url: str, bodies: list[tuple[str, dict[str, object]]], *, path: str = BOOK
) -> list[httpx2.Response]:
    return await _race_to(base_url, [(token, path, body) for token, body in bodies])


async def _race_to(
    base_url: str, requests: list[tuple[str, str, dict[str, object]]]
) -> list[httpx2.Response]:
    """Each (token, path, body) POSTed at once, the answers in the same order."""
    limits = httpx2.Limits(max_connections=CLIENTS + 10, max_keepalive_connections=CLIENTS + 10)
    # The 60 bookings of a slot queue on its agenda's lock, one after the other: on a loaded CI
    # machine the last one waits for the 59 before it. A hang still fails.
    async with httpx2.AsyncClient(base_url=base_url, limits=limits, timeout=180) as client:
        start = asyncio.Event()

        async def one(token: str, path: str, body: dict[str, object]) -> httpx2.Response:
            await start.wait()
            return await client.post(path, json=body, headers={"Authorization": f"Bearer {token}"})

        tasks = [asyncio.create_task(one(token, path, body)) for token, path, body in requests]
        await asyncio.sleep(0.05)
        start.set()
        return await asyncio.gather(*tasks)


@pytest.mark.slow
def test_each_slot_has_exactly_one_winner(db: Database, clock: SettableClock) -> None:
    world = build_world(db, clock)
    with db.write() as session:
        do_update_practice_settings(
            session,
            now=clock.now(),
            principal=world.admin.principal(db),
            practice_id=world.practice_id,
            anti_hoarding_days=0,
        )
    racers: list[tuple[Person, str]] = []
    for index in range(CLIENTS):
        person = make_person(db, clock, f"Racer {index}")
        racers.append((person, str(make_patient(db, clock, person, f"Racer{index}", "Dupont"))))
    app = create_app(Settings(run_refresher=False), database=db, clock=clock)
    with running_server(app) as base_url:
        for round_index in range(ROUNDS):
            day = MON_0900 + timedelta(days=round_index)
            slots = [day + timedelta(hours=hour) for hour in range(SLOTS_PER_ROUND)]
            bodies = [
                (
                    person.token,
                    {
                        "practice_id": str(world.practice_id),
                        "practitioner_id": str(world.practitioner_id),
                        "duration_minutes": 20,
                        "patient_id": patient_id,
                        "starts_at": slots[index % SLOTS_PER_ROUND].isoformat(),
                    },
                )
                for index, (person, patient_id) in enumerate(racers)
            ]
            responses = asyncio.run(_race(base_url, bodies))
            statuses = Counter(r.status_code for r in responses)
            assert statuses == {201: SLOTS_PER_ROUND, 409: CLIENTS - SLOTS_PER_ROUND}, statuses
            winners = Counter(r.json()["starts_at"] for r in responses if r.status_code == 201)
            assert len(winners) == SLOTS_PER_ROUND
            for response in responses:
                if response.status_code == 409:
                    assert response.headers["content-type"] == "application/problem+json"
                    problem = response.json()
                    assert problem["type"].endswith("/slot-taken")
                    assert problem["detail"] == "this slot was just taken"
    with db.read() as session:
        per_slot = session.execute(
            select(Appointment.starts_at, func.count())
            .where(Appointment.status == "booked")
            .group_by(Appointment.starts_at)
        ).all()
    assert len(per_slot) == ROUNDS * SLOTS_PER_ROUND
    assert all(count == 1 for _start, count in per_slot)


def principal_of(session: Session, person: Person) -> Principal:
    account = session.get(Account, person.account_id)
    assert account is not None
    return principal_for_account(session, account)


def _racers(db: Database, clock: SettableClock) -> list[tuple[Person, str]]:
    racers: list[tuple[Person, str]] = []
    for index in range(CLIENTS):
        person = make_person(db, clock, f"Racer {index}")
        racers.append((person, str(make_patient(db, clock, person, f"Racer{index}", "Dupont"))))
    return racers


def _one_winner(responses: list[httpx2.Response], *, won: int) -> None:
    """Exactly one answer ``won``, every other a 409 saying the time was just taken."""
    statuses = Counter(r.status_code for r in responses)
    assert statuses == {won: 1, 409: len(responses) - 1}, statuses
    for response in responses:
        if response.status_code == 409:
            assert response.headers["content-type"] == "application/problem+json"
            assert response.json()["type"].endswith("/slot-taken")


def _busy_at(db: Database, world: World, instant: datetime) -> list[tuple[UUID, str]]:
    """The GP's active appointments over ``instant``, at any practice; the ledger agrees."""
    with db.read() as session:
        active = session.execute(
            select(Appointment.appointment_id, Appointment.status).where(
                Appointment.practitioner_id == world.practitioner_id,
                Appointment.status.in_(ACTIVE_STATUSES),
                Appointment.starts_at <= instant,
                Appointment.blocked_until > instant,
            )
        ).all()
        ledger = session.scalars(
            select(PractitionerBusy.appointment_id).where(
                PractitionerBusy.practitioner_id == world.practitioner_id,
                PractitionerBusy.starts_at <= instant,
                PractitionerBusy.blocked_until > instant,
            )
        ).all()
    assert sorted(ledger) == sorted(a for a, _status in active)
    return [(a, status) for a, status in active]


@pytest.mark.slow
@pytest.mark.parametrize("db", ["postgres"], indirect=True)
def test_one_practitioner_one_body_across_practices(db: Database, clock: SettableClock) -> None:
    world = build_world(db, clock)
    bis = add_second_practice(db, clock, world, overlapping=True)
    practices = [
        (world.practice_id, world.consultation_id),
        (bis.practice_id, bis.consultation_id),
    ]
    with db.write() as session:
        for practice_id, _visit_type in practices:
            do_update_practice_settings(
                session,
                now=clock.now(),
                principal=world.admin.principal(db),
                practice_id=practice_id,
                anti_hoarding_days=0,
            )
    racers = _racers(db, clock)
    admin = world.admin.principal(db)

    def bodies(instant: datetime) -> list[tuple[str, str, dict[str, object]]]:
        """Every racer books ``instant``, half through each practice."""
        return [
            (
                person.token,
                BOOK,
                {
                    "practice_id": str(practices[index % 2][0]),
                    "practitioner_id": str(world.practitioner_id),
                    "duration_minutes": 20,
                    "patient_id": patient_id,
                    "starts_at": instant.isoformat(),
                },
            )
            for index, (person, patient_id) in enumerate(racers)
        ]

    # Each racer's appointment, to be moved in the race: mornings of the weeks after, one
    # practice then the other, so that none overlaps another.
    owned: list[tuple[UUID, UUID]] = []
    with db.write() as session:
        for index, (person, patient_id) in enumerate(racers):
            practice_id, _visit_type = practices[index % 2]
            day = MON_0900 + timedelta(days=14 + 7 * (index // 30) + (index // 6) % 5)
            appointment = do_book_appointment(
                session,
                now=clock.now(),
                principal=principal_of(session, person),
                request=BookingRequest(
                    practice_id=practice_id,
                    practitioner_id=world.practitioner_id,
                    patient_id=UUID(patient_id),
                    starts_at=day + timedelta(minutes=30 * (index % 6)),
                    duration_minutes=20,
                ),
                source=Source.ONLINE,
            )
            owned.append((practice_id, appointment.appointment_id))

    # A waitlist offer: Wendy waits at the first practice; the time she is offered is freed there.
    wendy = make_person(db, clock, "Waiting Wendy")
    wendy_patient = make_patient(db, clock, wendy, "Wendy", "Blanc")

    def offer_to_wendy(instant: datetime) -> UUID:
        with db.write() as session:
            do_join_waitlist(
                session,
                now=clock.now(),
                principal=principal_of(session, wendy),
                practice_id=world.practice_id,
                practitioner_id=world.practitioner_id,
                duration_minutes=20,
                patient_id=wendy_patient,
                first_day=instant.date(),
                last_day=instant.date(),
            )
            freed = do_book_appointment(
                session,
                now=clock.now(),
                principal=principal_of(session, world.holder),
                request=BookingRequest(
                    practice_id=world.practice_id,
                    practitioner_id=world.practitioner_id,
                    patient_id=world.holder_patient_id,
                    starts_at=instant,
                    duration_minutes=20,
                ),
                source=Source.ONLINE,
            )
            do_cancel_appointment(
                session,
                now=clock.now(),
                principal=admin,
                practice_id=world.practice_id,
                appointment_id=freed.appointment_id,
                reason=CancelReason.PRACTITIONER_UNAVAILABLE,
            )
            offer = session.scalar(select(WaitlistOffer).where(WaitlistOffer.outcome == "pending"))
            assert offer is not None
            return offer.offer_id

    def decision(offer_id: UUID) -> tuple[str, str, dict[str, object]]:
        return (
            wendy.token,
            f"/api/v1/practices/{world.practice_id}/waitlist-offers/{offer_id}/decision",
            {"accept": True},
        )

    app = create_app(Settings(run_refresher=False), database=db, clock=clock)
    with running_server(app) as base_url:
        # Booking: the same instant through both practices, twice.
        for days in (1, 2):
            instant = MON_0900 + timedelta(days=days)
            _one_winner(asyncio.run(_race_to(base_url, bodies(instant))), won=201)
            assert len(_busy_at(db, world, instant)) == 1
        # Moving: every racer moves their own appointment, at either practice, to one instant.
        instant = MON_0900 + timedelta(days=3)
        moves: list[tuple[str, str, dict[str, object]]] = [
            (
                person.token,
                f"/api/v1/practices/{practice_id}/appointments/{appointment_id}/reschedule",
                {"starts_at": instant.isoformat()},
            )
            for (person, _patient), (practice_id, appointment_id) in zip(racers, owned, strict=True)
        ]
        _one_winner(asyncio.run(_race_to(base_url, moves)), won=200)
        assert len(_busy_at(db, world, instant)) == 1
        # A live hold: Wendy's acceptance wins over 59 bookings through both practices.
        instant = MON_0900 + timedelta(days=4)
        offer_id = offer_to_wendy(instant)
        requests = [decision(offer_id), *bodies(instant)[1:]]
        _one_winner(asyncio.run(_race_to(base_url, requests)), won=200)
        assert [status for _id, status in _busy_at(db, world, instant)] == ["booked"]
        # A lapsed hold: Wendy is too late, and one of the bookings that free it wins.
        instant = MON_0900 + timedelta(days=7)
        offer_id = offer_to_wendy(instant)
        clock.advance(timedelta(minutes=31))
        responses = asyncio.run(_race_to(base_url, [decision(offer_id), *bodies(instant)[1:]]))
        assert responses[0].status_code == 422
        _one_winner(responses[1:], won=201)
        assert len(_busy_at(db, world, instant)) == 1
