"""Correcting a relative over HTTP (PUT /me/patients/{id}): the holder's own record and becoming
``self`` are refused, someone else's relative is not found, and every change is audited."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from colloque.api.app import create_app
from colloque.audit.models import AuditEvent
from colloque.audit.services import AuditAction
from colloque.clock import SettableClock
from colloque.config import Settings
from colloque.storage.engine import Database
from tests.factories import World, build_world
from tests.functional.test_api import assert_problem, auth


@pytest.fixture
def world(db: Database, clock: SettableClock) -> World:
    return build_world(db, clock)


@pytest.fixture
def client(db: Database, clock: SettableClock) -> Iterator[TestClient]:
    app = create_app(Settings(run_refresher=False), database=db, clock=clock)
    with TestClient(app, raise_server_exceptions=True) as test_client:
        yield test_client


def _body(**changes: str) -> dict[str, Any]:
    return {
        "first_name": "Jules",
        "last_name": "Petit",
        "birth_date": "2016-09-14",
        "relationship": "child",
        **changes,
    }


def test_a_relative_is_corrected_and_the_change_audited(
    client: TestClient, world: World, db: Database
) -> None:
    path = f"/api/v1/me/patients/{world.child_patient_id}"
    changed = client.put(
        path, json=_body(relationship="dependant"), headers=auth(world.holder.token)
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["first_name"] == "Jules"
    assert changed.json()["relationship"] == "dependant"
    listed = client.get("/api/v1/me/patients", headers=auth(world.holder.token)).json()
    assert {p["first_name"] for p in listed if p["relationship"] == "dependant"} == {"Jules"}
    with db.read() as session:
        audited = session.scalars(
            select(AuditEvent).where(
                AuditEvent.action == AuditAction.RELATIVE_CHANGED,
                AuditEvent.object_id == world.child_patient_id,
            )
        ).all()
    assert audited


def test_what_may_not_be_corrected(client: TestClient, world: World) -> None:
    holder = auth(world.holder.token)
    own = f"/api/v1/me/patients/{world.holder_patient_id}"
    assert_problem(client.put(own, json=_body(), headers=holder), 422, "patient_id")
    child = f"/api/v1/me/patients/{world.child_patient_id}"
    assert_problem(client.put(child, json=_body(relationship="self"), headers=holder), 422)
    assert_problem(
        client.put(child, json=_body(birth_date="2999-01-01"), headers=holder), 422, "birth_date"
    )
    # Someone else's relative answers as one that does not exist.
    stranger = auth(world.stranger.token)
    assert_problem(client.put(child, json=_body(), headers=stranger), 404, "patient_id")
    assert client.put(child, json=_body()).status_code == 401
