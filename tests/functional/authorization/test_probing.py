"""Probing is stopped: misses slow the credential and the address down, then lock them out, not
the account; the owner and the practice admins are told; counters are atomic."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import anyio
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from starlette.requests import Request

from colloque.accounts.services import do_issue_token
from colloque.api import problems
from colloque.audit.models import AuditEvent
from colloque.authorization import probing
from colloque.authorization.models import ProbingCounter, ProbingIncident
from colloque.authorization.probing import (
    REMAINING_HEADER,
    Counter,
    ProbingLimits,
    ProbingLocked,
    check_not_locked,
    note_miss,
    purge_idle,
    record_miss,
)
from colloque.clock import SettableClock
from colloque.errors import NotFound
from colloque.notifications.models import AccountMail
from colloque.principal import ANONYMOUS
from colloque.storage.engine import Database
from tests.factories import World, book
from tests.functional.authorization.conftest import auth, make_app
from tests.problems import blank_request_id

LIMITS = ProbingLimits(
    slow_after=3,
    lock_after=5,
    window=timedelta(minutes=10),
    lock_for=timedelta(minutes=15),
    delay_seconds=1.5,
    network_factor=4,
)


def incidents(db: Database) -> list[ProbingIncident]:
    with db.read() as session:
        return list(session.scalars(select(ProbingIncident).order_by(ProbingIncident.at)))


def probing_audit(db: Database) -> list[tuple[str, uuid.UUID | None, str, uuid.UUID | None]]:
    with db.read() as session:
        rows = session.scalars(
            select(AuditEvent)
            .where(AuditEvent.action.like("security:probing:%"))
            .order_by(AuditEvent.at)
        )
        return [(r.action, r.actor_account_id, r.actor_role, r.object_id) for r in rows]


def mailed(db: Database) -> list[uuid.UUID | None]:
    with db.read() as session:
        return sorted((m.account_id for m in session.scalars(select(AccountMail))), key=str)


def test_a_stolen_token_is_locked_and_its_owner_carries_on(
    db: Database, clock: SettableClock, world: World
) -> None:
    app, sleeps = make_app(db, clock, LIMITS)
    appointment = book(db, clock, world, clock.now() + timedelta(hours=1))
    base = f"/api/v1/practices/{world.practice_id}/appointments/"
    stolen = auth(world.secretary)
    with TestClient(app) as client:
        answers = []
        for n in range(1, 6):
            answers.append(client.get(base + str(uuid.uuid4()), headers=stolen))
            assert sleeps.calls == [1.5] * max(0, n - 2), n
        assert {(a.status_code, blank_request_id(a.content)) for a in answers} == {
            (404, blank_request_id(answers[0].content))
        }
        assert [a.headers[REMAINING_HEADER] for a in answers] == ["2", "1", "0", "0", "0"]

        locked = client.get(base + str(appointment.appointment_id), headers=stolen)
        assert locked.status_code == 429
        assert locked.headers["content-type"] == "application/problem+json"
        assert locked.headers["retry-after"] == str(15 * 60)
        assert locked.json()["type"].endswith("/too-many-misses")
        # The owner signs in again: a new credential of the same account carries on.
        with db.write() as session:
            fresh = do_issue_token(session, now=clock.now(), account_id=world.secretary.account_id)
        again = client.get(
            base + str(appointment.appointment_id), headers={"Authorization": f"Bearer {fresh}"}
        )
        assert again.status_code == 200

    slowed, lock = incidents(db)
    assert (slowed.kind, slowed.misses, slowed.locked_until) == ("slowed", 3, None)
    assert (lock.kind, lock.misses, lock.window_seconds) == ("locked", 5, 600)
    assert lock.locked_until == clock.now() + timedelta(minutes=15)
    assert lock.principal_key.startswith("credential:")
    assert lock.account_id == world.secretary.account_id
    secretary = world.secretary.account_id
    # A global event: the actor role is the one of no practice.
    assert probing_audit(db) == [
        ("security:probing:slowed", secretary, "patient", slowed.incident_id),
        ("security:probing:locked", secretary, "patient", lock.incident_id),
    ]
    # Told: the owner, and the practice's admin; once, for the one lock.
    assert mailed(db) == sorted([secretary, world.admin.account_id], key=str)

    with TestClient(app) as client:
        clock.advance(timedelta(minutes=14, seconds=30))
        assert client.get("/api/v1/me", headers=stolen).headers["retry-after"] == "30"
        clock.advance(timedelta(seconds=30))
        assert client.get("/api/v1/me/appointments", headers=stolen).status_code == 200
        # The old misses have left the window: the next one starts a new count.
        sleeps.calls.clear()
        fresh_miss = client.get(base + str(uuid.uuid4()), headers=stolen)
        assert (fresh_miss.status_code, fresh_miss.headers[REMAINING_HEADER]) == (404, "2")
        assert sleeps.calls == []


def test_honest_mistakes_are_not_misses(db: Database, clock: SettableClock, world: World) -> None:
    app, _sleeps = make_app(db, clock, LIMITS)
    patient = auth(world.holder)
    with TestClient(app) as client:
        for _ in range(LIMITS.lock_after + 1):
            # A patient on a staff URL of a public practice: the 404 of a route their role
            # cannot use, the same for every practice id; an unknown route.
            staff_url = client.get(
                f"/api/v1/practices/{world.practice_id}/operator-grants", headers=patient
            )
            agenda = client.get(f"/api/v1/practices/{world.practice_id}/settings", headers=patient)
            nowhere = client.get("/api/v1/no/such/route", headers=patient)
            assert {staff_url.status_code, agenda.status_code, nowhere.status_code} == {404}
            assert REMAINING_HEADER not in staff_url.headers
            assert REMAINING_HEADER not in agenda.headers
            assert REMAINING_HEADER not in nowhere.headers
        assert client.get("/api/v1/me/appointments", headers=patient).status_code == 200
    assert incidents(db) == []


def test_anonymous_locks_are_enforced_per_address_and_per_network(
    db: Database, clock: SettableClock, world: World
) -> None:
    app, _sleeps = make_app(db, clock, LIMITS)
    with TestClient(app, client=("198.51.100.7", 1)) as client:
        for _ in range(LIMITS.lock_after):
            assert client.get(f"/api/v1/practices/{uuid.uuid4()}").status_code == 404
        # Locked: every further miss is refused, and every request that resolves a principal.
        assert client.get(f"/api/v1/practices/{uuid.uuid4()}").status_code == 429
        assert client.get("/api/v1/me/appointments").status_code == 429
    with TestClient(app, client=("198.51.100.8", 1)) as neighbour:
        assert neighbour.get(f"/api/v1/practices/{uuid.uuid4()}").status_code == 404
        assert neighbour.get("/api/v1/me/appointments").status_code == 401
    lock = incidents(db)[-1]
    assert lock.principal_key.startswith("client:")
    assert "198.51" not in lock.principal_key
    assert lock.account_id is None

    # Rotating IPv6 addresses within one /64 is one network: 4 x 5 misses lock all of it.
    for n in range(LIMITS.lock_after * LIMITS.network_factor):
        with TestClient(app, client=(f"2001:db8:1:2::{n + 1:x}", 1)) as rotating:
            assert rotating.get(f"/api/v1/practices/{uuid.uuid4()}").status_code == 404
    with TestClient(app, client=("2001:db8:1:2::ffff", 1)) as client:
        assert client.get(f"/api/v1/practices/{uuid.uuid4()}").status_code == 429
    with TestClient(app, client=("2001:db8:1:3::1", 1)) as client:
        assert client.get(f"/api/v1/practices/{uuid.uuid4()}").status_code == 404


@pytest.mark.postgres
def test_concurrent_misses_cannot_pass_the_limit(
    postgres_db: Database, clock: SettableClock
) -> None:
    limits = ProbingLimits(slow_after=10, lock_after=20, delay_seconds=0)
    counters = (Counter("credential:concurrent"),)

    def miss(_: int) -> probing.Verdict:
        with postgres_db.write() as session:
            return record_miss(
                session, counters=counters, principal=ANONYMOUS, now=clock.now(), limits=limits
            )

    with ThreadPoolExecutor(max_workers=16) as pool:
        verdicts = list(pool.map(miss, range(200)))
    assert sorted(v.misses for v in verdicts) == list(range(1, 201))
    assert sum(not v.refused for v in verdicts) == 20
    assert [i.kind for i in incidents(postgres_db)] == ["slowed", "locked"]


def test_counters_window_and_purge(db: Database, clock: SettableClock) -> None:
    counters = (Counter("account:test"),)

    def miss() -> probing.Verdict:
        with db.write() as session:
            return record_miss(
                session, counters=counters, principal=ANONYMOUS, now=clock.now(), limits=LIMITS
            )

    assert [miss().misses for _ in range(2)] == [1, 2]
    clock.advance(timedelta(minutes=10))
    verdict = miss()  # a window is over: a new one starts
    assert (verdict.misses, verdict.slowed, verdict.locked, verdict.remaining) == (
        1,
        False,
        False,
        2,
    )
    for _ in range(4):
        verdict = miss()
    assert (verdict.misses, verdict.locked, verdict.refused) == (5, True, False)
    verdict = miss()
    assert (verdict.refused, verdict.retry_after) == (True, 15 * 60)
    assert [i.kind for i in incidents(db)] == ["slowed", "locked"]
    with db.write() as session:
        purge_idle(session, now=clock.now() + timedelta(hours=23))
    with db.write() as session:
        purge_idle(session, now=clock.now() + timedelta(days=1))
        assert session.scalars(select(ProbingCounter)).all() == []


def test_the_guard_is_optional_and_never_turns_a_404_into_a_500(
    db: Database, clock: SettableClock, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    bare = FastAPI()
    problems.install(bare)

    @bare.get("/thing")
    def thing() -> None:
        raise NotFound("thing not found")

    with TestClient(bare) as client:
        assert client.get("/thing").status_code == 404
    request = Request({"type": "http", "app": bare, "client": None})
    with db.read() as session:
        check_not_locked(session, request=request, principal=ANONYMOUS, now=clock.now())

    def broken(*_args: object) -> probing.Verdict:
        raise RuntimeError("database unreachable")

    monkeypatch.setattr(probing, "_record_in_own_transaction", broken)
    app, _sleeps = make_app(db, clock, LIMITS)
    with TestClient(app) as client:
        answer = client.get(f"/api/v1/practices/{uuid.uuid4()}")
        assert answer.status_code == 404
        assert REMAINING_HEADER not in answer.headers


def test_without_a_delay_nobody_waits(db: Database, clock: SettableClock) -> None:
    limits = ProbingLimits(slow_after=1, lock_after=2, delay_seconds=0)
    app, sleeps = make_app(db, clock, limits)
    request = Request({"type": "http", "app": app, "client": ("198.51.100.1", 1), "state": {}})
    verdict = None
    for _ in range(2):
        verdict = anyio.run(note_miss, request)
    assert verdict is not None
    assert verdict.locked
    assert sleeps.calls == []
    with db.read() as session, pytest.raises(ProbingLocked) as caught:
        check_not_locked(session, request=request, principal=ANONYMOUS, now=clock.now())
    assert caught.value.retry_after == 15 * 60
