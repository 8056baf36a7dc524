"""Reads outside the OpenAPI document (server-rendered pages, the worker) name what they show."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from colloque.audit.models import AuditEvent
from colloque.audit.objects import ObjectKind, unpack
from colloque.audit.services import AuditAction
from colloque.booking.access import read_registry_patient
from colloque.clock import SettableClock
from colloque.records.threads import get_place, list_places
from colloque.storage.engine import Database
from tests.factories import World, book, build_world

TUE_0900 = datetime(2026, 3, 3, 8, 0, tzinfo=UTC)


@pytest.fixture
def world(db: Database, clock: SettableClock) -> World:
    return build_world(db, clock)


def _events(db: Database, action: AuditAction) -> list[AuditEvent]:
    with db.read() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action.value)))


def test_the_desk_patient_page_is_one_event_naming_the_patient_and_appointments(
    db: Database, clock: SettableClock, world: World
) -> None:
    # An online booking makes the patient known to the practice.
    first = book(db, clock, world, TUE_0900)
    second = book(db, clock, world, TUE_0900 + timedelta(days=7))
    before = len(_events(db, AuditAction.PRACTICE_PATIENT_VIEWED))
    with db.write() as session:
        page = read_registry_patient(
            session,
            now=clock.now(),
            principal=world.secretary.principal(db),
            practice_id=world.practice_id,
            patient_id=world.holder_patient_id,
        )
    assert [view.appointment.appointment_id for view in page.views] == [
        second.appointment_id,
        first.appointment_id,
    ]
    (event,) = _events(db, AuditAction.PRACTICE_PATIENT_VIEWED)[before:]
    assert unpack(event.objects or b"") == {
        ObjectKind.APPOINTMENT: {first.appointment_id, second.appointment_id},
        ObjectKind.PATIENT: {world.holder_patient_id},
    }


def test_the_records_pages_name_the_patients_they_list(
    db: Database, clock: SettableClock, world: World
) -> None:
    book(db, clock, world, TUE_0900)
    holder = world.holder.principal(db)
    with db.write() as session:
        places = list_places(session, now=clock.now(), principal=holder)
        place = get_place(
            session,
            now=clock.now(),
            principal=holder,
            practice_id=world.practice_id,
            patient_id=world.holder_patient_id,
        )
    assert [p.patient.patient_id for p in places] == [world.holder_patient_id]
    assert place.patient.patient_id == world.holder_patient_id
    events = _events(db, AuditAction.PATIENTS_LISTED)
    assert [unpack(event.objects or b"") for event in events] == [
        {ObjectKind.PATIENT: {world.holder_patient_id}}
    ] * 2
