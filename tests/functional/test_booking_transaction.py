"""A booking over HTTP resolves its principal inside the booking's own transaction
(``api.deps.PrincipalInTransaction``): one transaction per request, the activity stamp written
with the booking, and the same refusals as every other route that needs a signed-in account."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, func, select

from colloque.accounts.models import AccessToken
from colloque.accounts.sessions import (
    CSRF_HEADER,
    SESSION_COOKIE,
    SessionKind,
    hash_token,
    open_session,
)
from colloque.booking.models import Appointment
from colloque.clock import SettableClock
from colloque.storage.engine import Database
from tests.factories import World, build_world, register_at_practice
from tests.functional.http import app_client, bearer, problem

#: A Tuesday at 09:00 in Paris: far enough ahead of the tests' clock for the booking notice.
TUE_0900 = datetime(2026, 3, 3, 8, 0, tzinfo=UTC)


@pytest.fixture
def world(db: Database, clock: SettableClock) -> World:
    return build_world(db, clock)


@pytest.fixture
def client(db: Database, clock: SettableClock) -> Iterator[TestClient]:
    with app_client(db, clock) as test_client:
        yield test_client


def _body(world: World, starts_at: datetime, *, online: bool = True) -> dict[str, Any]:
    return {
        **({"practice_id": str(world.practice_id)} if online else {}),
        "practitioner_id": str(world.practitioner_id),
        "duration_minutes": 20,
        "patient_id": str(world.holder_patient_id),
        "starts_at": starts_at.isoformat(),
    }


class Transactions:
    """Counts the transactions begun on the database's engines."""

    def __init__(self, db: Database) -> None:
        self.begun = 0
        self._engines = {db.writer_engine, db.reader_engine}
        for engine in self._engines:
            event.listen(engine, "begin", self._on_begin)

    def _on_begin(self, *_: Any) -> None:
        self.begun += 1

    def close(self) -> None:
        for engine in self._engines:
            event.remove(engine, "begin", self._on_begin)


@pytest.fixture
def transactions(db: Database) -> Iterator[Transactions]:
    counter = Transactions(db)
    yield counter
    counter.close()


def _last_seen(db: Database, token: str) -> datetime | None:
    with db.read() as session:
        return session.scalar(
            select(AccessToken.last_seen_at).where(AccessToken.token_hash == hash_token(token))
        )


def test_an_online_booking_is_one_transaction_with_its_activity_stamp(
    db: Database,
    clock: SettableClock,
    world: World,
    client: TestClient,
    transactions: Transactions,
) -> None:
    clock.advance(timedelta(minutes=5))  # the token's activity is then due for a stamp
    response = client.post(
        "/api/v1/appointments", json=_body(world, TUE_0900), headers=bearer(world.holder)
    )
    assert response.status_code == 201, response.text
    assert transactions.begun == 1
    assert _last_seen(db, world.holder.token) == clock.now()


def test_a_practice_booking_is_one_transaction(
    db: Database, clock: SettableClock, world: World, client: TestClient
) -> None:
    register_at_practice(db, clock, world, world.holder_patient_id)
    clock.advance(timedelta(minutes=5))
    transactions = Transactions(db)
    response = client.post(
        f"/api/v1/practices/{world.practice_id}/appointments",
        json=_body(world, TUE_0900, online=False),
        headers=bearer(world.secretary),
    )
    transactions.close()
    assert response.status_code == 201, response.text
    assert transactions.begun == 1


def test_a_refused_booking_writes_nothing_not_even_the_activity_stamp(
    db: Database, clock: SettableClock, world: World, client: TestClient
) -> None:
    assert (
        client.post(
            "/api/v1/appointments", json=_body(world, TUE_0900), headers=bearer(world.holder)
        ).status_code
        == 201
    )
    stamped = _last_seen(db, world.holder.token)
    clock.advance(timedelta(minutes=5))
    problem(
        client.post(
            "/api/v1/appointments", json=_body(world, TUE_0900), headers=bearer(world.holder)
        ),
        409,
        field="starts_at",
    )
    assert _last_seen(db, world.holder.token) == stamped


def test_without_credentials_the_answer_is_401_before_the_body_is_read(
    client: TestClient,
) -> None:
    for path in ("/api/v1/appointments", f"/api/v1/practices/{uuid4()}/appointments"):
        body = problem(client.post(path, json={"nonsense": True}), 401)
        assert "sign in" in body["detail"]


def test_a_token_that_is_not_valid_is_refused_and_books_nothing(
    db: Database, world: World, client: TestClient
) -> None:
    problem(
        client.post(
            "/api/v1/appointments",
            json=_body(world, TUE_0900),
            headers={"Authorization": "Bearer clq_not-a-token"},
        ),
        401,
    )
    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(Appointment)) == 0


def test_a_cookie_session_books_with_its_csrf_header_only(
    db: Database, clock: SettableClock, world: World, client: TestClient
) -> None:
    with db.write() as session:
        opened = open_session(
            session,
            now=clock.now(),
            account_id=world.holder.account_id,
            kind=SessionKind.COOKIE,
            mfa_verified=False,
        )
    assert opened.csrf_token is not None
    client.cookies.set(SESSION_COOKIE, opened.token)
    problem(
        client.post("/api/v1/appointments", json=_body(world, TUE_0900)), 403, field=CSRF_HEADER
    )
    booked = client.post(
        "/api/v1/appointments",
        json=_body(world, TUE_0900),
        headers={CSRF_HEADER: opened.csrf_token},
    )
    assert booked.status_code == 201, booked.text


def test_a_cookie_that_is_not_valid_counts_as_no_session(world: World, client: TestClient) -> None:
    client.cookies.set(SESSION_COOKIE, "clq_not-a-session")
    body = problem(client.post("/api/v1/appointments", json=_body(world, TUE_0900)), 401)
    assert "sign in" in body["detail"]
