"""UTCDateTime, the column type of every instant: naive datetimes never reach the database, and
what comes back is aware UTC whatever offset went in, on both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import StatementError

from colloque.booking.models import Appointment
from colloque.clock import SettableClock
from colloque.storage.engine import Database
from tests.factories import book, build_world

TUE_0900 = datetime(2026, 3, 3, 8, 0, tzinfo=UTC)
PARIS_WINTER = timezone(timedelta(hours=1))


def test_naive_datetimes_are_refused_on_the_way_in(db: Database, clock: SettableClock) -> None:
    world = build_world(db, clock)
    appointment = book(db, clock, world, TUE_0900)
    key = (world.practice_id, appointment.appointment_id)
    naive = datetime(2026, 3, 3, 10, 0)
    refused = pytest.raises(StatementError, match="naive datetime refused")
    with refused as writing, db.write() as session:
        session.execute(
            update(Appointment)
            .where(Appointment.appointment_id == appointment.appointment_id)
            .values(updated_at=naive)
        )
    assert isinstance(writing.value.orig, ValueError)
    with pytest.raises(StatementError, match="naive datetime refused"), db.read() as session:
        session.scalars(select(Appointment).where(Appointment.starts_at < naive)).all()
    with db.read() as session:
        unchanged = session.get(Appointment, key)
        assert unchanged is not None
        assert unchanged.updated_at == appointment.updated_at


def test_instants_come_back_aware_utc(db: Database, clock: SettableClock) -> None:
    world = build_world(db, clock)
    appointment = book(db, clock, world, TUE_0900)
    local = datetime(2026, 3, 2, 10, 30, tzinfo=PARIS_WINTER)
    with db.write() as session:
        session.execute(
            update(Appointment)
            .where(Appointment.appointment_id == appointment.appointment_id)
            .values(updated_at=local, hold_expires_at=None)
        )
    with db.read() as session:
        row = session.get(Appointment, (world.practice_id, appointment.appointment_id))
        assert row is not None
        assert row.updated_at == local
        assert row.updated_at.tzinfo is UTC
        assert row.updated_at.hour == 9
        assert row.hold_expires_at is None
        found = session.scalar(
            select(Appointment.appointment_id).where(
                Appointment.starts_at == TUE_0900.astimezone(PARIS_WINTER)
            )
        )
        assert found == appointment.appointment_id
