"""A read whose audit event cannot be written returns nothing."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import text

from colloque.api.app import create_app
from colloque.clock import SettableClock
from colloque.config import Settings
from colloque.storage.engine import Database
from tests.factories import book, build_world
from tests.functional.http import bearer


def test_a_read_fails_whole_when_its_event_cannot_be_written(
    sqlite_db: Database, clock: SettableClock
) -> None:
    world = build_world(sqlite_db, clock)
    appointment = book(sqlite_db, clock, world, clock.now() + timedelta(days=2, hours=2))
    path = f"/api/v1/practices/{world.practice_id}/appointments/{appointment.appointment_id}"
    app = create_app(Settings(run_refresher=False), database=sqlite_db, clock=clock)
    with TestClient(app, raise_server_exceptions=False) as http:
        assert http.get(path, headers=bearer(world.secretary)).status_code == 200
        # As a full disk or a revoked grant would: the log refuses the next event.
        with sqlite_db.write() as session:
            session.execute(
                text(
                    "CREATE TRIGGER audit_refuses BEFORE INSERT ON audit_events "
                    "BEGIN SELECT RAISE(ABORT, 'the audit log cannot be written'); END"
                )
            )
        answer = http.get(path, headers=bearer(world.secretary))
    assert answer.status_code == 500
    assert answer.headers["content-type"] == "application/problem+json"
    assert str(appointment.appointment_id) not in answer.text
    assert str(appointment.patient_id) not in answer.text
    assert "Bernard" not in answer.text
    assert "starts_at" not in answer.text
