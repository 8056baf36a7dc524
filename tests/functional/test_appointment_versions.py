"""Appointments' versions over HTTP: a change sent with a stale `If-Match` is refused (412) and
changes nothing, and the agenda answers 304 to a poll while its window is unchanged
(docs/scheduling.md, "Appointments' versions and the live agenda")."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import httpx2
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from colloque.api.app import create_app
from colloque.audit.models import AuditEvent
from colloque.booking.models import Appointment
from colloque.clock import SettableClock
from colloque.config import Settings
from colloque.scheduling.domain import PatientKind
from colloque.scheduling.services import AgendaRulesInput, do_add_practitioner
from colloque.scheduling.specialties import Specialty
from colloque.scheduling.timetable import do_add_opening_range, do_add_visit_type
from colloque.storage.engine import Database
from tests.factories import World, book, build_world
from tests.functional.http import app_client, bearer, problem
from tests.server import running_server

# Monday 2026-03-02 09:00 in Paris (UTC+1); the clock starts that day at 08:00 local.
MON_0900 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


@pytest.fixture
def world(db: Database, clock: SettableClock) -> World:
    return build_world(db, clock)


@pytest.fixture
def client(db: Database, clock: SettableClock) -> Iterator[TestClient]:
    with app_client(db, clock) as test_client:
        yield test_client


def appointment_url(world: World, appointment: Appointment, action: str = "") -> str:
    url = f"/api/v1/practices/{world.practice_id}/appointments/{appointment.appointment_id}"
    return f"{url}/{action}" if action else url


def if_match(person: Any, version: str) -> dict[str, str]:
    return {**bearer(person), "If-Match": f'"{version}"'}


def read_version(client: TestClient, world: World, appointment: Appointment) -> str:
    response = client.get(appointment_url(world, appointment), headers=bearer(world.secretary))
    assert response.status_code == 200, response.text
    version: str = response.json()["version"]
    assert response.headers["etag"] == f'"{version}"'
    return version


def agenda_reads(db: Database, world: World) -> int:
    with db.read() as session:
        return (
            session.scalar(
                select(func.count())
                .select_from(AuditEvent)
                .where(
                    AuditEvent.object_kind == "agenda", AuditEvent.practice_id == world.practice_id
                )
            )
            or 0
        )


def test_a_change_based_on_a_stale_version_is_refused_and_changes_nothing(
    client: TestClient, db: Database, clock: SettableClock, world: World
) -> None:
    appointment = book(db, clock, world, MON_0900 + timedelta(days=1))
    read = read_version(client, world, appointment)

    # The secretary moves it with the version she read: it passes and the version changes.
    moved = client.post(
        appointment_url(world, appointment, "reschedule"),
        json={"starts_at": (MON_0900 + timedelta(days=1, hours=1)).isoformat()},
        headers=if_match(world.secretary, read),
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["version"] != read
    assert moved.json()["version"] == read_version(client, world, appointment)

    # The doctor, who read it before the move, cancels: refused, and it stays booked.
    stale = problem(
        client.post(
            appointment_url(world, appointment, "cancel"),
            json={"reason": "practitioner_unavailable"},
            headers=if_match(world.doctor, read),
        ),
        412,
        field="If-Match",
    )
    assert "appointment changed" in stale["detail"]
    after = client.get(appointment_url(world, appointment), headers=bearer(world.doctor)).json()
    assert (after["status"], after["starts_at"]) == ("booked", "2026-03-03T09:00:00Z")

    # A stranger's stale version is still the 404 of an appointment that is not theirs.
    problem(
        client.post(
            appointment_url(world, appointment, "cancel"),
            json={"reason": "other"},
            headers=if_match(world.stranger, read),
        ),
        404,
    )
    # Without If-Match (the patient's page, the Python client) the change goes ahead.
    cancelled = client.post(
        appointment_url(world, appointment, "cancel"),
        json={"reason": "other"},
        headers=bearer(world.holder),
    )
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled_by_patient"


def test_marking_checks_the_version_too(
    client: TestClient, db: Database, clock: SettableClock, world: World
) -> None:
    appointment = book(db, clock, world, MON_0900)
    read = read_version(client, world, appointment)
    clock.advance(timedelta(hours=2))
    url = appointment_url(world, appointment, "mark")
    done = client.post(url, json={"outcome": "done"}, headers=if_match(world.secretary, read))
    assert done.status_code == 200, done.text
    # A second member's no-show based on the same read would overwrite "done" unseen: refused.
    problem(
        client.post(url, json={"outcome": "no_show"}, headers=if_match(world.doctor, read)),
        412,
        field="If-Match",
    )
    assert read_version(client, world, appointment) == done.json()["version"]


def test_the_agenda_answers_304_while_its_window_is_unchanged(
    client: TestClient, db: Database, clock: SettableClock, world: World
) -> None:
    appointment = book(db, clock, world, MON_0900 + timedelta(days=1))
    url = f"/api/v1/practices/{world.practice_id}/agenda"
    week = {"from": "2026-03-02", "until": "2026-03-08"}
    first = client.get(url, params=week, headers=bearer(world.secretary))
    assert first.status_code == 200, first.text
    etag = first.headers["etag"]
    assert [a["version"] for a in first.json()] == [read_version(client, world, appointment)]
    reads = agenda_reads(db, world)

    polled = client.get(
        url, params=week, headers={**bearer(world.secretary), "If-None-Match": etag}
    )
    assert (polled.status_code, polled.content, polled.headers["etag"]) == (304, b"", etag)
    assert agenda_reads(db, world) == reads  # nothing new disclosed, nothing audited
    # Another window, or the same one for one practitioner, is not the same version.
    other = client.get(
        url,
        params={"from": "2026-03-09", "until": "2026-03-15"},
        headers={**bearer(world.secretary), "If-None-Match": etag},
    )
    assert other.status_code == 200
    assert other.json() == []
    one = client.get(
        url,
        params={**week, "practitioner_id": str(world.practitioner_id)},
        headers={**bearer(world.secretary), "If-None-Match": etag},
    )
    assert one.status_code == 200
    assert len(one.json()) == 1

    moved = client.post(
        appointment_url(world, appointment, "reschedule"),
        json={"starts_at": (MON_0900 + timedelta(days=2)).isoformat()},
        headers=bearer(world.secretary),
    )
    assert moved.status_code == 200, moved.text
    changed = client.get(
        url, params=week, headers={**bearer(world.secretary), "If-None-Match": etag}
    )
    assert changed.status_code == 200
    assert changed.headers["etag"] != etag
    assert changed.json()[0]["starts_at"] == "2026-03-04T09:00:00+01:00"
    assert agenda_reads(db, world) == reads + 3


async def _move_at_once(
    base_url: str, url: str, headers: dict[str, str], times: list[datetime]
) -> list[httpx2.Response]:
    async with httpx2.AsyncClient(base_url=base_url, timeout=60) as client:
        start = asyncio.Event()

        async def one(starts_at: datetime) -> httpx2.Response:
            await start.wait()
            return await client.post(
                url, json={"starts_at": starts_at.isoformat()}, headers=headers
            )

        tasks = [asyncio.create_task(one(starts_at)) for starts_at in times]
        await asyncio.sleep(0.05)
        start.set()
        return await asyncio.gather(*tasks)


@pytest.mark.slow
def test_moves_based_on_one_read_never_both_pass(
    db: Database, clock: SettableClock, world: World
) -> None:
    """Real concurrency on a real server: eight moves to eight free times, one version read."""
    appointment = book(db, clock, world, MON_0900 + timedelta(days=1))
    app = create_app(Settings(run_refresher=False), database=db, clock=clock)
    with app_client(db, clock) as client:
        version = read_version(client, world, appointment)
    times = [MON_0900 + timedelta(days=2, minutes=30 * index) for index in range(6)]
    with running_server(app) as base_url:
        answers = asyncio.run(
            _move_at_once(
                base_url,
                appointment_url(world, appointment, "reschedule"),
                if_match(world.secretary, version),
                times,
            )
        )
    statuses = Counter(answer.status_code for answer in answers)
    assert statuses == {200: 1, 412: 5}, [answer.text for answer in answers]


def _second_gp(db: Database, clock: SettableClock, world: World) -> UUID:
    """Another GP of the practice, open on Tuesdays 09:00-12:00, with a 20-minute consultation."""
    principal = world.admin.principal(db)
    with db.write() as session:
        gp = do_add_practitioner(
            session,
            now=clock.now(),
            principal=principal,
            practice_id=world.practice_id,
            first_name="Louis",
            last_name="Bernard",
            specialty=Specialty.GENERAL_PRACTICE,
            rules=AgendaRulesInput(slot_step_minutes=20, min_notice_minutes=0),
        )
        visit_type = do_add_visit_type(
            session,
            now=clock.now(),
            principal=principal,
            practice_id=world.practice_id,
            practitioner_id=gp.practitioner_id,
            label="Consultation",
            duration_minutes=20,
            patient_kind=PatientKind.ANY,
        )
        session.flush()
        do_add_opening_range(
            session,
            now=clock.now(),
            principal=principal,
            practice_id=world.practice_id,
            practitioner_id=gp.practitioner_id,
            weekday=1,
            start_minute=9 * 60,
            end_minute=12 * 60,
            visit_type_ids=[visit_type.visit_type_id],
        )
        return gp.practitioner_id


def test_the_practice_moves_an_appointment_to_another_practitioner(
    client: TestClient, db: Database, clock: SettableClock, world: World
) -> None:
    other = _second_gp(db, clock, world)
    appointment = book(db, clock, world, MON_0900 + timedelta(days=1))
    url = appointment_url(world, appointment, "reschedule")
    tuesday_1000 = (MON_0900 + timedelta(days=1, hours=1)).isoformat()
    # The patient may not hand it to another practitioner; nor may anyone to a stranger.
    problem(
        client.post(
            url,
            json={"starts_at": tuesday_1000, "practitioner_id": str(other)},
            headers=bearer(world.holder),
        ),
        422,
        field="practitioner_id",
    )
    problem(
        client.post(
            url,
            json={"starts_at": tuesday_1000, "practitioner_id": str(uuid4())},
            headers=bearer(world.secretary),
        ),
        404,
        field="practitioner_id",
    )
    # The same time with the other GP: a change of hands only.
    moved = client.post(
        url,
        json={
            "starts_at": (MON_0900 + timedelta(days=1)).isoformat(),
            "practitioner_id": str(other),
        },
        headers=if_match(world.secretary, read_version(client, world, appointment)),
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["practitioner_id"] == str(other)
    agenda = client.get(
        f"/api/v1/practices/{world.practice_id}/agenda",
        params={"from": "2026-03-03", "until": "2026-03-03", "practitioner_id": str(other)},
        headers=bearer(world.secretary),
    )
    assert [a["appointment_id"] for a in agenda.json()] == [str(appointment.appointment_id)]
