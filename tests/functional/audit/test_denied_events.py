"""Refused requests leave one audit event each: a policy's 403 and a probe's 404, with the
principal, the credential, the request id, the practice when it is the principal's, and every id
the path named (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from uuid import UUID, uuid4

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from colloque.accounts.sessions import hash_token
from colloque.audit.models import AuditEvent
from colloque.audit.objects import ObjectKind, unpack
from colloque.audit.services import AuditAction
from colloque.clock import SettableClock
from colloque.principal import credential_id
from colloque.storage.engine import Database
from tests.factories import World, build_world
from tests.functional.http import app_client, bearer


@pytest.fixture
def world(db: Database, clock: SettableClock) -> World:
    return build_world(db, clock)


@pytest.fixture
def client(db: Database, clock: SettableClock) -> Iterator[TestClient]:
    with app_client(db, clock) as test_client:
        yield test_client


def denied_events(db: Database) -> list[AuditEvent]:
    with db.read() as session:
        return list(
            session.scalars(
                select(AuditEvent).where(AuditEvent.action == AuditAction.ACCESS_DENIED.value)
            )
        )


def test_a_missing_appointment_of_ones_own_practice_is_a_denied_event_in_its_log(
    client: TestClient, db: Database, world: World
) -> None:
    missing = uuid4()
    response = client.get(
        f"/api/v1/practices/{world.practice_id}/appointments/{missing}",
        headers=bearer(world.secretary),
    )
    assert response.status_code == 404
    [event] = denied_events(db)
    assert event.outcome == "denied"
    assert event.reason == "not-found"
    assert event.actor_account_id == world.secretary.account_id
    assert event.actor_role == "secretary"
    assert event.credential_id == credential_id(hash_token(world.secretary.token))
    assert event.request_id == response.headers["X-Request-ID"]
    assert event.interface == "api"
    assert event.practice_id == world.practice_id
    assert (event.object_kind, event.object_id) == ("appointment", missing)
    assert event.objects is not None
    assert unpack(event.objects) == {
        ObjectKind.PRACTICE: frozenset({world.practice_id}),
        ObjectKind.APPOINTMENT: frozenset({missing}),
    }


def test_a_strangers_probe_of_a_practice_stays_in_the_global_log(
    client: TestClient, db: Database, world: World
) -> None:
    response = client.get(
        f"/api/v1/practices/{world.practice_id}/patients/{world.holder_patient_id}",
        headers=bearer(world.stranger),
    )
    assert response.status_code == 404
    [event] = denied_events(db)
    assert event.actor_account_id == world.stranger.account_id
    # Not the stranger's practice: its id is named, but the event is not in that practice's log.
    assert event.practice_id is None
    assert event.objects is not None
    assert unpack(event.objects) == {
        ObjectKind.PRACTICE: frozenset({world.practice_id}),
        ObjectKind.PATIENT: frozenset({world.holder_patient_id}),
    }


def test_a_role_too_low_is_a_denied_event_saying_forbidden(
    client: TestClient, db: Database, world: World
) -> None:
    response = client.get(
        f"/api/v1/practices/{world.practice_id}/operator-grants",
        headers=bearer(world.secretary),
    )
    assert response.status_code == 403
    [event] = denied_events(db)
    assert event.reason == "forbidden"
    assert event.practice_id == world.practice_id
    assert (event.object_kind, event.object_id) == ("practice", world.practice_id)


def test_each_refused_request_writes_one_event_and_allowed_ones_none(
    client: TestClient, db: Database, world: World
) -> None:
    for _ in range(3):
        client.get(
            f"/api/v1/practices/{uuid4()}/appointments/{uuid4()}",
            headers=bearer(world.secretary),
        )
    response = client.get(
        f"/api/v1/practices/{world.practice_id}/patients",
        params={"query": "bernard"},
        headers=bearer(world.secretary),
    )
    assert response.status_code == 200
    assert len(denied_events(db)) == 3


def test_the_refusal_stands_when_its_event_cannot_be_written(
    client: TestClient, db: Database, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_args: object, **_kwargs: object) -> UUID:
        raise RuntimeError("the audit table is gone")

    monkeypatch.setattr("colloque.api.denials.record_denied", broken)
    response = client.get(
        f"/api/v1/practices/{world.practice_id}/appointments/{uuid4()}",
        headers=bearer(world.secretary),
    )
    assert response.status_code == 404
    assert denied_events(db) == []
