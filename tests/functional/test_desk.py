"""The desk's API: a practice patient's contact details, the look-up by name, phone or birth
date, and extra appointments forced outside the opening hours (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from colloque.audit.models import AuditEvent
from colloque.audit.services import AuditAction
from colloque.booking.models import Appointment, AppointmentEvent
from colloque.booking.rules import Source
from colloque.booking.services import BookingRequest, do_book_appointment
from colloque.clock import SettableClock
from colloque.errors import InvalidInput
from colloque.patients.models import PracticePatient
from colloque.patients.registry import find_practice_patients
from colloque.scheduling.services import do_create_practice
from colloque.storage.engine import Database
from tests.conftest import QueryCount
from tests.factories import World, book, build_world, register_at_practice
from tests.functional.http import app_client, bearer, problem
from tests.problems import same_bytes_but_request_id

# T0 is Monday 2026-03-02 08:00 in Paris (UTC+1). Openings: 09:00-12:00 and 14:00-18:00.
MON_0900 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
MON_1300 = MON_0900 + timedelta(hours=4)  # lunch: the agenda is closed
SAT_1000 = datetime(2026, 3, 7, 9, 0, tzinfo=UTC)


@pytest.fixture
def world(db: Database, clock: SettableClock) -> World:
    return build_world(db, clock)


@pytest.fixture
def client(db: Database, clock: SettableClock) -> Iterator[TestClient]:
    with app_client(db, clock) as test_client:
        yield test_client


def patients_url(world: World, patient_id: object = None) -> str:
    base = f"/api/v1/practices/{world.practice_id}/patients"
    return base if patient_id is None else f"{base}/{patient_id}"


def register(client: TestClient, world: World, **fields: Any) -> dict[str, Any]:
    body = {"first_name": "Élodie", "last_name": "Garçon", "birth_date": "1990-04-02", **fields}
    response = client.post(patients_url(world), json=body, headers=bearer(world.secretary))
    assert response.status_code == 201, response.text
    answer: dict[str, Any] = response.json()
    return answer


def search(client: TestClient, world: World, query: str) -> list[str]:
    response = client.get(
        patients_url(world), params={"query": query}, headers=bearer(world.secretary)
    )
    assert response.status_code == 200, response.text
    return [found["last_name"] for found in response.json()]


def test_a_registered_patient_keeps_a_normalised_phone_and_email(
    client: TestClient, world: World
) -> None:
    made = register(client, world, phone="06.12.34.56.78", email=" Elodie.G@Example.TEST ")
    assert made["phone"] == "+33612345678"
    assert made["email"] == "elodie.g@example.test"
    assert made["holder_account_id"] is None
    bare = register(client, world, first_name="Jean", last_name="Sans", birth_date="1950-01-01")
    assert bare["phone"] is None
    assert bare["email"] is None


@pytest.mark.parametrize(
    ("field", "value"),
    [("phone", "12"), ("phone", "06 12 34"), ("phone", "not a number"), ("email", "no-at.test")],
)
def test_an_invalid_contact_is_refused_naming_its_field(
    client: TestClient, db: Database, world: World, field: str, value: str
) -> None:
    body = {"first_name": "Ana", "last_name": "Bad", "birth_date": "1990-04-02", field: value}
    response = client.post(patients_url(world), json=body, headers=bearer(world.secretary))
    problem(response, 422, field=field)
    with db.read() as session:
        assert session.scalars(select(PracticePatient)).all() == []


def test_the_desk_finds_a_patient_by_name_phone_or_birth_date(
    client: TestClient, world: World
) -> None:
    register(client, world, phone="06 12 34 56 78")
    register(client, world, first_name="Paul", last_name="Autre", birth_date="1971-12-31")
    for query in ("elodie GARCON", "Élodie", "0612345678", "+33 6 12 34 56 78", "0033612345678"):
        assert search(client, world, query) == ["Garçon"], query
    assert search(client, world, "06 12 34") == ["Garçon"]  # the first digits, as typed
    assert search(client, world, "06 99 99 99 99") == []
    assert search(client, world, "02/04/1990") == ["Garçon"]
    assert search(client, world, "1971-12-31") == ["Autre"]
    assert search(client, world, "31/12/1971") == ["Autre"]
    response = client.get(
        patients_url(world), params={"query": "31/02/1990"}, headers=bearer(world.secretary)
    )
    problem(response, 422, field="query")


def test_the_search_says_which_account_manages_a_patient(
    client: TestClient, db: Database, clock: SettableClock, world: World
) -> None:
    register_at_practice(db, clock, world, world.holder_patient_id)
    [found] = client.get(
        patients_url(world), params={"query": "hugo bernard"}, headers=bearer(world.secretary)
    ).json()
    assert found["patient_id"] == str(world.holder_patient_id)
    assert found["holder_account_id"] == str(world.holder.account_id)


@pytest.mark.parametrize("patients", [1, 12])
def test_the_search_sends_one_query_whatever_it_finds(
    db: Database, clock: SettableClock, world: World, assert_query_count: QueryCount, patients: int
) -> None:
    with app_client(db, clock) as client:
        for index in range(patients):
            register(client, world, first_name=f"Ana{index}", last_name="Lune")
    secretary = world.secretary.principal(db)
    # The search, then its audit event: on PostgreSQL one statement (the event, the sequencer's
    # queue row and the patients it names, however many); on SQLite the event, the queue row and
    # one statement for the patients, after its BEGIN IMMEDIATE.
    with assert_query_count({"sqlite": 5, "postgresql": 2}), db.write() as session:
        found = find_practice_patients(
            session,
            now=clock.now(),
            principal=secretary,
            practice_id=world.practice_id,
            query="lune",
        )
        assert len(found) == patients
        assert {registered.contact.phone for registered in found} == {None}


def test_contact_edits_need_the_version_read(client: TestClient, world: World) -> None:
    made = register(client, world, phone="0612345678")
    url = patients_url(world, made["patient_id"])
    read = client.get(url, headers=bearer(world.secretary))
    assert read.status_code == 200
    assert read.headers["etag"] == f'"{made["version"]}"' == f'"{read.json()["version"]}"'
    problem(
        client.patch(url, json={"email": "a@b.test"}, headers=bearer(world.secretary)),
        428,
        field="If-Match",
    )
    edited = client.patch(
        url,
        json={"email": "Ela@Example.test"},
        headers={**bearer(world.secretary), "If-Match": read.headers["etag"]},
    )
    assert edited.status_code == 200, edited.text
    assert edited.json()["email"] == "ela@example.test"
    assert edited.json()["phone"] == "+33612345678"  # not sent: kept
    stale = client.patch(
        url,
        json={"phone": None},
        headers={**bearer(world.secretary), "If-Match": read.headers["etag"]},
    )
    problem(stale, 412, field="If-Match")
    cleared = client.patch(
        url,
        json={"phone": None},
        headers={**bearer(world.secretary), "If-Match": edited.headers["etag"]},
    )
    assert cleared.json()["phone"] is None
    bad = client.patch(
        url,
        json={"phone": "123"},
        headers={**bearer(world.secretary), "If-Match": cleared.headers["etag"]},
    )
    problem(bad, 422, field="phone")


def test_a_patient_of_another_practice_is_not_found(
    client: TestClient, db: Database, clock: SettableClock, world: World
) -> None:
    with db.write() as session:
        elsewhere = do_create_practice(
            session,
            now=clock.now(),
            principal=world.stranger.principal(db),
            name="Ailleurs",
            address="2 rue Basse",
            postcode="69002",
            city="Lyon",
            latitude=45.75,
            longitude=4.83,
        ).practice_id
    response = client.post(
        f"/api/v1/practices/{elsewhere}/patients",
        json={"first_name": "Zoé", "last_name": "Loin", "birth_date": "1990-04-02"},
        headers=bearer(world.stranger),
    )
    made = response.json()
    missing = client.get(patients_url(world, uuid4()), headers=bearer(world.secretary))
    for answer in (
        client.get(patients_url(world, made["patient_id"]), headers=bearer(world.secretary)),
        client.patch(
            patients_url(world, made["patient_id"]),
            json={"phone": None},
            headers={**bearer(world.secretary), "If-Match": made["version"]},
        ),
    ):
        assert answer.status_code == 404
        assert same_bytes_but_request_id(answer.content, missing.content)
    for answer in (
        client.get(
            f"/api/v1/practices/{elsewhere}/patients/{made['patient_id']}",
            headers=bearer(world.secretary),
        ),
        client.get(patients_url(world, made["patient_id"]), headers=bearer(world.holder)),
    ):
        problem(answer, 404)


# --- outside the opening hours ------------------------------------------------------------------


def book_by_desk(
    client: TestClient, world: World, patient_id: object, starts_at: datetime, **extra: Any
) -> Any:
    return client.post(
        f"/api/v1/practices/{world.practice_id}/appointments",
        json={
            "practitioner_id": str(world.practitioner_id),
            "patient_id": str(patient_id),
            "starts_at": starts_at.isoformat(),
            "duration_minutes": 20,
            **extra,
        },
        headers=bearer(world.secretary),
    )


def test_the_desk_forces_an_extra_appointment_only_when_it_confirms(
    client: TestClient, db: Database, world: World
) -> None:
    patient = register(client, world)["patient_id"]
    problem(book_by_desk(client, world, patient, MON_1300), 422, field="starts_at", rule="closed")
    problem(
        book_by_desk(client, world, patient, SAT_1000, outside_hours_confirmed=False),
        422,
        field="starts_at",
        rule="closed",
    )
    forced = book_by_desk(client, world, patient, MON_1300, outside_hours_confirmed=True)
    assert forced.status_code == 201, forced.text
    assert forced.json()["outside_hours"] is True
    appointment_id = forced.json()["appointment_id"]
    detail = client.get(
        f"/api/v1/practices/{world.practice_id}/appointments/{appointment_id}",
        headers=bearer(world.secretary),
    ).json()
    assert [(e["kind"], e["outside_hours"]) for e in detail["history"]] == [("booked", True)]
    with db.read() as session:
        actions = set(
            session.scalars(
                select(AuditEvent.action).where(AuditEvent.object_id == UUID(appointment_id))
            )
        )
    assert AuditAction.APPOINTMENT_OUTSIDE_HOURS.value in actions
    # Within the hours the confirmation forces nothing: not recorded as outside.
    inside = book_by_desk(client, world, patient, MON_0900, outside_hours_confirmed=True)
    assert inside.status_code == 201
    assert inside.json()["outside_hours"] is False


def test_a_forced_time_still_refuses_another_appointment(
    client: TestClient, db: Database, world: World
) -> None:
    first = register(client, world)["patient_id"]
    second = register(client, world, first_name="Paul", last_name="Autre")["patient_id"]
    assert (
        book_by_desk(client, world, first, MON_1300, outside_hours_confirmed=True).status_code
        == 201
    )
    clash = book_by_desk(
        client, world, second, MON_1300 + timedelta(minutes=10), outside_hours_confirmed=True
    )
    problem(clash, 409, field="starts_at")
    with db.read() as session:
        assert len(session.scalars(select(Appointment)).all()) == 1


def test_a_patient_can_never_force(
    client: TestClient, db: Database, clock: SettableClock, world: World
) -> None:
    online = client.post(
        "/api/v1/appointments",
        json={
            "practice_id": str(world.practice_id),
            "practitioner_id": str(world.practitioner_id),
            "patient_id": str(world.holder_patient_id),
            "starts_at": MON_1300.isoformat(),
            "duration_minutes": 20,
            "outside_hours_confirmed": True,
        },
        headers=bearer(world.holder),
    )
    assert online.status_code == 422
    booked = book(db, clock, world, MON_0900 + timedelta(days=1))
    move = client.post(
        f"/api/v1/practices/{world.practice_id}/appointments/{booked.appointment_id}/reschedule",
        json={"starts_at": MON_1300.isoformat(), "outside_hours_confirmed": True},
        headers=bearer(world.holder),
    )
    problem(move, 422, field="outside_hours_confirmed")


def test_the_desk_moves_an_appointment_outside_the_hours_when_it_confirms(
    client: TestClient, db: Database, clock: SettableClock, world: World
) -> None:
    booked = book(db, clock, world, MON_0900 + timedelta(days=1))
    url = f"/api/v1/practices/{world.practice_id}/appointments/{booked.appointment_id}/reschedule"
    refused = client.post(
        url, json={"starts_at": MON_1300.isoformat()}, headers=bearer(world.secretary)
    )
    problem(refused, 422, field="starts_at", rule="closed")
    moved = client.post(
        url,
        json={"starts_at": MON_1300.isoformat(), "outside_hours_confirmed": True},
        headers=bearer(world.secretary),
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["outside_hours"] is True
    with db.read() as session:
        kinds = {
            (event.kind, event.outside_hours)
            for event in session.scalars(
                select(AppointmentEvent).where(
                    AppointmentEvent.appointment_id == booked.appointment_id
                )
            )
        }
    assert kinds == {("booked", False), ("rescheduled", True)}


def test_the_birth_date_search_reads_the_date_not_a_phone(
    db: Database, clock: SettableClock, world: World
) -> None:
    register_at_practice(db, clock, world, world.child_patient_id)
    with db.write() as session:
        found = find_practice_patients(
            session,
            now=clock.now(),
            principal=world.secretary.principal(db),
            practice_id=world.practice_id,
            query="01/09/2018",
        )
        assert [registered.patient.birth_date for registered in found] == [date(2018, 9, 1)]


def test_a_patient_never_forces_an_extra_appointment_even_past_the_api(
    db: Database, clock: SettableClock, world: World
) -> None:
    """The online body has no such field (a 422 above); the service refuses it on its own too."""
    request = BookingRequest(
        practice_id=world.practice_id,
        practitioner_id=world.practitioner_id,
        patient_id=world.holder_patient_id,
        starts_at=MON_1300,
        duration_minutes=20,
        outside_hours_confirmed=True,
    )
    with db.write() as session, pytest.raises(InvalidInput) as refused:
        do_book_appointment(
            session,
            now=clock.now(),
            principal=world.holder.principal(db),
            request=request,
            source=Source.ONLINE,
        )
    assert refused.value.field == "outside_hours_confirmed"
