"""The reminder policy travels from the visit type to the appointment through the booking client:
the server never learns the type, only the practice's one bit for it (docs/crypto.md)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from uuid import UUID, uuid4

import pytest
from fastapi.testclient import TestClient

from colloque.booking.changes import do_cancel_appointment
from colloque.booking.models import Appointment
from colloque.booking.rules import CancelReason
from colloque.clock import SettableClock
from colloque.patients.services import Relationship, do_add_patient
from colloque.storage.engine import Database
from colloque.web.app import create_app
from tests.factories import World, build_world
from tests.factories import book as book_for_holder
from tests.functional.http import bearer
from tests.functional.keys.conftest import SETTINGS, Keyed, keyed

MON_0900 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
LATER_0900 = datetime(2026, 3, 16, 8, 0, tzinfo=UTC)
TUE_0900 = datetime(2026, 3, 3, 8, 0, tzinfo=UTC)


@pytest.fixture
def http(db: Database, clock: SettableClock) -> Iterator[TestClient]:
    with TestClient(create_app(SETTINGS, database=db, clock=clock)) as client:
        yield client


def _patient(db: Database, clock: SettableClock, person: Keyed) -> UUID:
    with db.write() as session:
        return do_add_patient(
            session,
            now=clock.now(),
            principal=person.principal(db),
            first_name="Paul",
            last_name="Genou",
            birth_date=date(1980, 5, 6),
            relationship=Relationship.SELF,
        ).patient_id


def _turn_reminders_off(http: TestClient, world: World, visit_type_id: UUID) -> None:
    path = f"/api/v1/practices/{world.practice_id}/visit-types/{visit_type_id}"
    current = http.get(path, headers=bearer(world.admin))
    assert current.json()["reminders"] is True
    headers = {**bearer(world.admin), "If-Match": current.headers["etag"]}
    changed = http.patch(path, json={"reminders": False}, headers=headers)
    assert changed.status_code == 200
    assert changed.json()["reminders"] is False
    assert changed.json()["version"] != current.json()["version"]


def test_the_client_sends_the_visit_type_s_reminder_policy(
    db: Database, clock: SettableClock, http: TestClient
) -> None:
    world = build_world(db, clock)
    _turn_reminders_off(http, world, world.consultation_id)
    listed = http.get(f"/api/v1/practices/{world.practice_id}/practitioners").json()
    [consultation] = [
        vt for vt in listed[0]["visit_types"] if vt["visit_type_id"] == str(world.consultation_id)
    ]
    assert consultation["reminders"] is False
    person = keyed(db, clock, "patient")
    client = person.client(http)
    patient_id = _patient(db, clock, person)

    def book(starts_at: datetime, reminders: bool | None = None) -> dict[str, object]:
        return client.book(
            practice_id=world.practice_id,
            practitioner_id=world.practitioner_id,
            patient_id=patient_id,
            visit_type_id=world.consultation_id,
            duration_minutes=20,
            starts_at=starts_at,
            reminders_wanted=reminders,
        )

    quiet = book(MON_0900)
    assert quiet["reminders_wanted"] is False
    # The caller may still say it (a client that read the policy itself).
    told = book(LATER_0900, reminders=True)
    assert told["reminders_wanted"] is True
    with db.read() as session:
        stored = session.get(Appointment, (world.practice_id, UUID(str(quiet["appointment_id"]))))
        assert stored is not None
        assert stored.reminders_wanted is False
    # A type or an agenda the practice does not list: reminders, the default.
    assert client._visit_type_reminders(world.practice_id, world.practitioner_id, uuid4())
    assert client._visit_type_reminders(world.practice_id, uuid4(), world.consultation_id)


def test_accepting_a_waitlist_offer_carries_the_policy_too(
    db: Database, clock: SettableClock, http: TestClient
) -> None:
    world = build_world(db, clock)
    _turn_reminders_off(http, world, world.consultation_id)
    taken = book_for_holder(db, clock, world, TUE_0900)
    person = keyed(db, clock, "waiter")
    client = person.client(http)
    patient_id = _patient(db, clock, person)
    client.join_waitlist(
        practice_id=world.practice_id,
        practitioner_id=world.practitioner_id,
        patient_id=patient_id,
        duration_minutes=20,
        first_day=date(2026, 3, 3),
        last_day=date(2026, 3, 3),
    )
    with db.write() as session:
        do_cancel_appointment(
            session,
            now=clock.now(),
            principal=world.holder.principal(db),
            practice_id=world.practice_id,
            appointment_id=taken.appointment_id,
            reason=CancelReason.PATIENT_UNAVAILABLE,
        )
    [entry] = client.my_waitlist()
    client.accept_offer(entry, visit_type_id=world.consultation_id)
    with db.read() as session:
        held = session.get(
            Appointment, (world.practice_id, UUID(entry["pending_offer"]["appointment_id"]))
        )
        assert held is not None
        assert held.status == "booked"
        assert held.reminders_wanted is False
