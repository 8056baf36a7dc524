"""Zero double booking under real concurrency: many HTTP clients race for a few slots.

The server is real uvicorn on loopback, the database a real SQLite file or the real PostgreSQL
server. Each round, 60 clients (distinct patients) fire at once at 3 slots. Each slot must get
exactly one winner, every loser a 409 problem saying the slot was just taken, and the database
must hold exactly one active appointment per slot.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta

import httpx2
import pytest
from sqlalchemy import func, select

from colloque.api.app import create_app
from colloque.booking.models import Appointment
from colloque.clock import SettableClock
from colloque.config import Settings
from colloque.scheduling.services import do_update_practice_settings
from colloque.storage.engine import Database
from tests.factories import Person, build_world, make_patient, make_person
from tests.server import running_server

CLIENTS = 60
ROUNDS = 4
SLOTS_PER_ROUND = 3
MON_0900 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


async def _race(
    base_url: str, bodies: list[tuple[str, dict[str, object]]]
) -> list[httpx2.Response]:
    limits = httpx2.Limits(max_connections=CLIENTS + 10, max_keepalive_connections=CLIENTS + 10)
    # The 60 bookings of a slot queue on its agenda's lock, one after the other: on a loaded CI
    # machine the last one waits for the 59 before it. A hang still fails.
    async with httpx2.AsyncClient(base_url=base_url, limits=limits, timeout=180) as client:
        start = asyncio.Event()

        async def one(token: str, body: dict[str, object]) -> httpx2.Response:
            await start.wait()
            return await client.post(
                "/api/v1/appointments", json=body, headers={"Authorization": f"Bearer {token}"}
            )

        tasks = [asyncio.create_task(one(token, body)) for token, body in bodies]
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
