"""Probing is stopped: misses slow a principal down, then lock it out; both are audited."""

from __future__ import annotations

import uuid
from datetime import timedelta

import anyio
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from starlette.requests import Request

from colloque.api import problems
from colloque.audit.models import AuditEvent
from colloque.authorization import probing
from colloque.authorization.models import AccessMiss, ProbingIncident
from colloque.authorization.probing import (
    ProbingGuard,
    ProbingLimits,
    ProbingLocked,
    check_not_locked,
    note_miss,
    record_miss,
)
from colloque.clock import SettableClock
from colloque.errors import NotFound
from colloque.principal import ANONYMOUS
from colloque.server_keys import ServerKeys
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


def test_misses_slow_then_lock_a_signed_in_principal(
    db: Database, clock: SettableClock, world: World
) -> None:
    app, sleeps = make_app(db, clock, LIMITS)
    appointment = book(db, clock, world, clock.now() + timedelta(hours=1))
    base = f"/api/v1/practices/{world.practice_id}/appointments/"
    with TestClient(app) as client:
        answers = []
        for n in range(1, 6):
            # Somebody else's appointment is a miss exactly like a missing one.
            target = appointment.appointment_id if n == 1 else uuid.uuid4()
            answers.append(client.get(base + str(target), headers=auth(world.stranger)))
            assert sleeps.calls == [1.5] * max(0, n - 2), n
        assert {(a.status_code, blank_request_id(a.content)) for a in answers} == {
            (404, blank_request_id(answers[0].content))
        }

        locked = client.get("/api/v1/me/appointments", headers=auth(world.stranger))
        assert locked.status_code == 429
        assert locked.headers["content-type"] == "application/problem+json"
        assert locked.headers["retry-after"] == str(15 * 60)
        assert locked.json()["type"].endswith("/too-many-misses")
        # Nobody else is affected.
        assert client.get("/api/v1/me/appointments", headers=auth(world.holder)).status_code == 200

        slowed, lock = incidents(db)
        assert (slowed.kind, slowed.misses, slowed.locked_until) == ("slowed", 3, None)
        assert (lock.kind, lock.misses, lock.window_seconds) == ("locked", 5, 600)
        assert lock.locked_until == clock.now() + timedelta(minutes=15)
        assert lock.principal_key == f"account:{world.stranger.account_id}"
        assert lock.account_id == world.stranger.account_id
        stranger = world.stranger.account_id
        assert probing_audit(db) == [
            ("security:probing:slowed", stranger, "patient", slowed.incident_id),
            ("security:probing:locked", stranger, "patient", lock.incident_id),
        ]

        clock.advance(timedelta(minutes=14, seconds=30))
        assert client.get("/api/v1/me", headers=auth(world.stranger)).headers["retry-after"] == (
            "30"
        )
        clock.advance(timedelta(seconds=30))
        assert client.get("/api/v1/me/appointments", headers=auth(world.stranger)).status_code == (
            200
        )
        # The old misses have left the window: the next one starts a new count.
        sleeps.calls.clear()
        assert client.get(base + str(uuid.uuid4()), headers=auth(world.stranger)).status_code == (
            404
        )
        assert sleeps.calls == []
    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(AccessMiss)) == 1


def test_anonymous_misses_count_by_a_keyed_hash_of_the_address(
    db: Database, clock: SettableClock, world: World
) -> None:
    app, sleeps = make_app(db, clock, LIMITS)
    with TestClient(app) as client:
        for _ in range(LIMITS.lock_after + 2):
            missing = client.get(f"/api/v1/practices/{uuid.uuid4()}")
            assert missing.status_code == 404
        assert client.get(f"/api/v1/practices/{world.practice_id}").status_code == 200
    assert len(sleeps.calls) == LIMITS.lock_after + 2 - (LIMITS.slow_after - 1)
    slowed, lock = incidents(db)
    assert lock.principal_key == slowed.principal_key
    assert lock.principal_key.startswith("client:")
    assert "testclient" not in lock.principal_key
    assert lock.account_id is None
    assert [(a, actor, role) for a, actor, role, _ in probing_audit(db)] == [
        ("security:probing:slowed", None, "anonymous"),
        ("security:probing:locked", None, "anonymous"),
    ]
    # The same address is locked for anything that checks it.
    request = Request({"type": "http", "app": app, "client": ("testclient", 50000)})
    with db.read() as session, pytest.raises(ProbingLocked) as caught:
        check_not_locked(session, request=request, principal=ANONYMOUS, now=clock.now())
    assert caught.value.retry_after == 15 * 60
    elsewhere = Request({"type": "http", "app": app, "client": ("192.0.2.7", 50000)})
    with db.read() as session:
        check_not_locked(session, request=elsewhere, principal=ANONYMOUS, now=clock.now())


def test_misses_slide_out_of_the_window(db: Database, clock: SettableClock) -> None:
    def miss() -> probing.Verdict:
        with db.write() as session:
            return record_miss(
                session, key="account:test", principal=ANONYMOUS, now=clock.now(), limits=LIMITS
            )

    assert [miss().misses for _ in range(2)] == [1, 2]
    clock.advance(timedelta(minutes=6))
    assert miss().misses == 3
    clock.advance(timedelta(minutes=4))
    verdict = miss()  # the first two are exactly one window old: gone
    assert (verdict.misses, verdict.slowed, verdict.locked) == (2, False, False)
    for _ in range(3):
        verdict = miss()
    assert (verdict.misses, verdict.slowed, verdict.locked) == (5, True, True)
    # Still locked: further misses do not stack new locks.
    assert miss().locked
    assert [i.kind for i in incidents(db)] == ["slowed", "locked"]


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
        assert client.get(f"/api/v1/practices/{uuid.uuid4()}").status_code == 404


def test_without_a_delay_nobody_waits(db: Database, clock: SettableClock) -> None:
    limits = ProbingLimits(slow_after=1, lock_after=2, delay_seconds=0)
    app, sleeps = make_app(db, clock, limits)
    request = Request({"type": "http", "app": app, "client": ("198.51.100.1", 1)})
    verdict = None
    for _ in range(2):
        verdict = anyio.run(note_miss, request)
    assert verdict is not None
    assert verdict.locked
    assert sleeps.calls == []


def test_the_client_key_depends_on_the_secret() -> None:
    request = Request({"type": "http", "client": ("203.0.113.9", 1)})
    one = ProbingGuard.for_keys(ServerKeys.from_secret("one"), LIMITS).key_for(request, None)
    two = ProbingGuard.for_keys(ServerKeys.from_secret("two"), LIMITS).key_for(request, None)
    assert one != two
    assert one == ProbingGuard.for_keys(ServerKeys.from_secret("one"), LIMITS).key_for(
        request, ANONYMOUS
    )
    unknown = Request({"type": "http", "client": None})
    assert (
        ProbingGuard.for_keys(ServerKeys.from_secret("one"), LIMITS)
        .key_for(unknown, None)
        .startswith("client:")
    )
