"""Each event says which credential, request and client it came from; addresses are forgotten in
time, prefixes and commitments are not."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from colloque.accounts.sessions import hash_token
from colloque.api.app import create_app
from colloque.audit.addresses import commitment
from colloque.audit.context import Interface
from colloque.audit.models import (
    AuditClientAddress,
    AuditEvent,
    AuditEventSubject,
    AuditPending,
)
from colloque.audit.objects import ObjectKind, unpack
from colloque.audit.services import AuditAction, Outcome, record
from colloque.audit.upkeep import forget_client_addresses
from colloque.clock import SettableClock
from colloque.config import Settings
from colloque.principal import ANONYMOUS, credential_id
from colloque.storage.engine import Database
from colloque.worker import run_cycle
from tests.factories import book, build_world
from tests.functional.http import bearer

CLIENT = ("203.0.113.77", 4711)


def _newest(db: Database, action: AuditAction) -> AuditEvent:
    with db.read() as session:
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == action.value)).one()
        session.expunge(event)
        return event


def test_an_api_read_names_its_credential_request_client_and_objects(
    db: Database, clock: SettableClock
) -> None:
    world = build_world(db, clock)
    appointment = book(db, clock, world, clock.now() + timedelta(days=2, hours=2))
    app = create_app(Settings(run_refresher=False), database=db, clock=clock)
    with TestClient(app, client=CLIENT) as http:
        answer = http.get(
            f"/api/v1/practices/{world.practice_id}/appointments/{appointment.appointment_id}",
            headers=bearer(world.holder),
        )
    assert answer.status_code == 200, answer.text

    event = _newest(db, AuditAction.APPOINTMENT_VIEWED)
    assert event.credential_id == credential_id(hash_token(world.holder.token))
    assert event.interface == Interface.API
    assert event.request_id == answer.headers["X-Request-ID"]
    assert event.client_prefix == "203.0.113.0/24"
    assert event.outcome == "allowed"
    assert event.reason is None
    with db.read() as session:
        address = session.get_one(AuditClientAddress, event.event_id)
        pending = session.get_one(AuditPending, event.event_id)
        subjects = set(
            session.scalars(
                select(AuditEventSubject.subject_id).where(
                    AuditEventSubject.event_id == event.event_id
                )
            )
        )
    assert address.address == CLIENT[0]
    assert event.client_commitment == commitment(address.salt, CLIENT[0])
    assert pending.log_id == world.practice_id
    assert event.objects is not None
    assert unpack(event.objects) == {
        ObjectKind.APPOINTMENT: frozenset({appointment.appointment_id}),
        ObjectKind.PATIENT: frozenset({appointment.patient_id}),
    }
    assert subjects == {appointment.patient_id}


def test_in_process_events_have_no_credential_or_address(
    db: Database, clock: SettableClock
) -> None:
    world = build_world(db, clock)
    with db.write() as session:
        record(
            session,
            at=clock.now(),
            action=AuditAction.PRACTICE_PATIENT_VIEWED,
            principal=world.secretary.principal(db),
            practice_id=world.practice_id,
            object_kind="patient",
            object_id=world.holder_patient_id,
        )
    event = _newest(db, AuditAction.PRACTICE_PATIENT_VIEWED)
    assert (event.credential_id, event.client_prefix, event.client_commitment) == (None, None, None)
    assert event.interface == Interface.INTERNAL
    assert event.actor_role == "secretary"
    assert event.objects is not None
    assert unpack(event.objects) == {ObjectKind.PATIENT: frozenset({world.holder_patient_id})}
    with db.read() as session:
        assert session.get(AuditClientAddress, event.event_id) is None
        assert session.get_one(AuditPending, event.event_id).log_id == world.practice_id


def test_a_denied_event_must_say_why(db: Database, clock: SettableClock) -> None:
    with db.write() as session, pytest.raises(ValueError, match="says why"):
        record(
            session,
            at=clock.now(),
            action=AuditAction.APPOINTMENT_VIEWED,
            principal=ANONYMOUS,
            object_kind="appointment",
            object_id=None,
            outcome=Outcome.DENIED,
        )


def test_full_addresses_are_forgotten_after_the_retention(
    db: Database, clock: SettableClock
) -> None:
    world = build_world(db, clock)
    app = create_app(Settings(run_refresher=False), database=db, clock=clock)
    with TestClient(app, client=CLIENT) as http:
        assert http.get("/api/v1/me/appointments", headers=bearer(world.holder)).status_code == 200
    event = _newest(db, AuditAction.APPOINTMENTS_LISTED)

    clock.advance(timedelta(days=29))
    with db.write() as session:
        assert forget_client_addresses(session, now=clock.now(), retention=timedelta(days=30)) == 0
    clock.advance(timedelta(days=2))
    run_cycle(db, clock, batch=10, address_retention=timedelta(days=30))
    with db.read() as session:
        assert session.get(AuditClientAddress, event.event_id) is None
        assert session.scalar(select(func.count()).select_from(AuditClientAddress)) == 0
    # The event itself is untouched: the prefix and the commitment stay.
    kept = _newest(db, AuditAction.APPOINTMENTS_LISTED)
    assert (kept.client_prefix, kept.client_commitment) == (
        event.client_prefix,
        event.client_commitment,
    )
