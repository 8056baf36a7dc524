"""Sessions: cookie flags, CSRF, bearer tokens, idle and absolute timeouts, activity writes."""

from __future__ import annotations

from datetime import timedelta
from http.cookies import SimpleCookie
from typing import Any
from uuid import UUID

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from colloque.accounts.models import AccessToken, EmailChallenge, RecoveryGrant, Throttle
from colloque.accounts.services import do_add_member, hash_token
from colloque.accounts.upkeep import purge_expired_account_data
from colloque.api.app import create_app
from colloque.audit.models import AuditEvent
from colloque.audit.services import AuditAction
from colloque.client import ApiError
from colloque.clock import SettableClock
from colloque.principal import Role
from colloque.storage.engine import Database
from tests.factories import build_world
from tests.functional.accounts.conftest import (
    bearer,
    login_body,
    make_settings,
    new_client,
    register,
)
from tests.functional.test_api import assert_problem
from tests.smtp import Inbox

LOGIN = "/api/v1/auth/login"
PATIENT = {
    "first_name": "Ana",
    "last_name": "Martin",
    "birth_date": "1990-01-02",
    "relationship": "self",
}


def _cookies(response: Any) -> dict[str, Any]:
    jar: dict[str, Any] = {}
    for header in response.headers.get_list("set-cookie"):
        parsed = SimpleCookie()
        parsed.load(header)
        for name, morsel in parsed.items():
            jar[name] = morsel
    return jar


def _log_in(http: TestClient, email: str, kind: str = "token") -> dict[str, Any]:
    response = http.post(LOGIN, json=login_body(http, email, session=kind))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_cookie_session_flags(db: Database, clock: SettableClock, http: TestClient) -> None:
    register(db, clock, "ana@example.test")
    response = http.post(LOGIN, json=login_body(http, "ana@example.test", session="cookie"))
    session = response.json()["session"]
    assert session["kind"] == "cookie"
    assert session["token"] is None
    cookies = _cookies(response)
    main, csrf = cookies["colloque_session"], cookies["colloque_csrf"]
    assert main.value.startswith("clq_")
    assert len(main.value) >= 4 + 43  # 256 bits
    assert main["httponly"] is True
    assert main["secure"] is True
    assert main["samesite"].lower() == "strict"
    assert main["path"] == "/"
    assert csrf.value == session["csrf_token"]
    assert csrf["httponly"] == ""
    assert csrf["secure"] is True
    assert csrf["samesite"].lower() == "strict"
    # Only hashes are stored.
    with db.read() as stored:
        row = stored.get_one(AccessToken, hash_token(main.value))
    assert row.kind == "cookie"
    assert row.csrf_hash == hash_token(csrf.value)


def test_cookie_without_secure_when_the_setting_says_so(
    db: Database, clock: SettableClock, smtp: tuple[Inbox, int]
) -> None:
    register(db, clock, "ana@example.test")
    app = create_app(make_settings(smtp[1], cookie_secure=False), database=db, clock=clock)
    with TestClient(app) as http:
        response = http.post(LOGIN, json=login_body(http, "ana@example.test", session="cookie"))
        assert _cookies(response)["colloque_session"]["secure"] == ""
        # Plain http now works with the cookie.
        assert http.get("/api/v1/me").status_code == 200


def test_csrf_is_needed_for_unsafe_cookie_requests(
    db: Database, clock: SettableClock, http: TestClient
) -> None:
    register(db, clock, "ana@example.test")
    csrf = _log_in(http, "ana@example.test", "cookie")["session"]["csrf_token"]
    assert http.get("/api/v1/me").status_code == 200  # safe: no header needed
    refused = http.post("/api/v1/me/patients", json=PATIENT)
    assert_problem(refused, 403, "X-CSRF-Token")
    wrong = http.post("/api/v1/me/patients", json=PATIENT, headers={"X-CSRF-Token": "forged"})
    assert_problem(wrong, 403, "X-CSRF-Token")
    accepted = http.post("/api/v1/me/patients", json=PATIENT, headers={"X-CSRF-Token": csrf})
    assert accepted.status_code == 201, accepted.text


def test_bearer_needs_no_csrf_and_wins_over_a_cookie(
    db: Database, clock: SettableClock, http: TestClient
) -> None:
    ana = register(db, clock, "ana@example.test")
    ben = register(db, clock, "ben@example.test")
    token = _log_in(http, "ana@example.test")["session"]["token"]
    _log_in(http, "ben@example.test", "cookie")  # the cookie jar now holds Ben's session
    created = http.post("/api/v1/me/patients", json=PATIENT, headers=bearer(token))
    assert created.status_code == 201
    assert http.get("/api/v1/me", headers=bearer(token)).json()["account_id"] == str(ana.account_id)
    assert http.get("/api/v1/me").json()["account_id"] == str(ben.account_id)
    # A bad bearer token is refused even with a good cookie.
    assert_problem(http.get("/api/v1/me", headers=bearer("clq_forged")), 401)


def test_a_dead_cookie_is_no_session(db: Database, clock: SettableClock, http: TestClient) -> None:
    dead = {"Cookie": "colloque_session=clq_forged"}
    search = http.get("/api/v1/search", params={"specialty": "general_practice"}, headers=dead)
    assert search.status_code == 200
    assert_problem(http.get("/api/v1/me", headers=dead), 401)


def test_logout(db: Database, clock: SettableClock, http: TestClient) -> None:
    register(db, clock, "ana@example.test")
    csrf = _log_in(http, "ana@example.test", "cookie")["session"]["csrf_token"]
    assert_problem(http.post("/api/v1/auth/logout"), 403, "X-CSRF-Token")
    out = http.post("/api/v1/auth/logout", headers={"X-CSRF-Token": csrf})
    assert out.status_code == 204
    cleared = _cookies(out)
    assert cleared["colloque_session"].value == ""
    assert cleared["colloque_csrf"].value == ""
    assert_problem(http.get("/api/v1/me"), 401)
    # Without a session it still answers (and clears).
    assert http.post("/api/v1/auth/logout").status_code == 204
    token = _log_in(http, "ana@example.test")["session"]["token"]
    assert http.post("/api/v1/auth/logout", headers=bearer(token)).status_code == 204
    assert_problem(http.get("/api/v1/me", headers=bearer(token)), 401)


def test_logout_others_ends_every_other_session_of_the_account_only(
    db: Database, clock: SettableClock, http: TestClient
) -> None:
    ana = register(db, clock, "ana@example.test")  # with an issued token
    ben = register(db, clock, "ben@example.test")
    ana_bearers = [_log_in(http, ana.email)["session"]["token"] for _ in range(2)]
    ben_bearer = _log_in(http, ben.email)["session"]["token"]
    csrf = _log_in(http, ana.email, "cookie")["session"]["csrf_token"]
    url = "/api/v1/auth/logout/others"
    assert_problem(http.post(url), 403, "X-CSRF-Token")
    for token in ana_bearers:
        assert http.get("/api/v1/me", headers=bearer(token)).status_code == 200
    out = http.post(url, headers={"X-CSRF-Token": csrf})
    assert out.status_code == 200, out.text
    assert out.json() == {"ended_sessions": 3}
    assert "set-cookie" not in out.headers  # this browser stays signed in, same cookies
    assert http.get("/api/v1/me").json()["account_id"] == str(ana.account_id)
    for token in [*ana_bearers, ana.token]:
        assert_problem(http.get("/api/v1/me", headers=bearer(token)), 401)
    for token in (ben_bearer, ben.token):
        assert http.get("/api/v1/me", headers=bearer(token)).status_code == 200
    # Nothing left to end; a bearer session needs no CSRF token and keeps itself.
    assert http.post(url, headers={"X-CSRF-Token": csrf}).json() == {"ended_sessions": 0}
    assert http.post(url, headers=bearer(ben_bearer)).json() == {"ended_sessions": 1}
    assert http.get("/api/v1/me", headers=bearer(ben_bearer)).status_code == 200
    http.cookies.clear()
    assert_problem(http.post(url), 401)
    with db.read() as session:
        ended = session.scalars(
            select(AuditEvent.object_id).where(
                AuditEvent.action == AuditAction.LOGGED_OUT_ELSEWHERE.value
            )
        ).all()
    assert sorted(map(str, ended)) == sorted(
        map(str, [ana.account_id, ana.account_id, ben.account_id])
    )


def test_the_python_client_logs_out_its_other_sessions(
    db: Database, clock: SettableClock, http: TestClient
) -> None:
    ana = register(db, clock, "ana@example.test")
    here, there = new_client(http), new_client(http)
    here.log_in(ana.email, ana.password)
    there.log_in(ana.email, ana.password)
    assert here.log_out_others() == 2  # the other client and the issued token
    assert here.me()["account_id"] == str(ana.account_id)
    with pytest.raises(ApiError) as caught:
        there.me()
    assert caught.value.status == 401


def _member(db: Database, clock: SettableClock, email: str) -> UUID:
    world = build_world(db, clock)
    person = register(db, clock, email)
    with db.write() as session:
        do_add_member(
            session,
            practice_id=world.practice_id,
            account_id=person.account_id,
            role=Role.SECRETARY,
        )
    return world.practice_id


@pytest.mark.parametrize(
    ("member", "idle"), [(False, timedelta(hours=24)), (True, timedelta(minutes=30))]
)
def test_idle_timeout_per_role(
    db: Database, clock: SettableClock, http: TestClient, member: bool, idle: timedelta
) -> None:
    if member:
        _member(db, clock, "ana@example.test")
    else:
        register(db, clock, "ana@example.test")
    session = _log_in(http, "ana@example.test")["session"]
    assert session["idle_timeout_seconds"] == idle.total_seconds()
    token = session["token"]
    clock.advance(idle - timedelta(seconds=1))
    assert http.get("/api/v1/me", headers=bearer(token)).status_code == 200  # activity
    clock.advance(idle - timedelta(seconds=1))
    assert http.get("/api/v1/me", headers=bearer(token)).status_code == 200
    clock.advance(idle)
    assert_problem(http.get("/api/v1/me", headers=bearer(token)), 401)


def test_practice_members_sessions_last_twelve_hours(
    db: Database, clock: SettableClock, http: TestClient
) -> None:
    _member(db, clock, "ana@example.test")
    token = _log_in(http, "ana@example.test")["session"]["token"]
    for _ in range(35):  # active every 20 minutes, for 11 h 40
        clock.advance(timedelta(minutes=20))
        assert http.get("/api/v1/me", headers=bearer(token)).status_code == 200
    clock.advance(timedelta(minutes=20))
    assert_problem(http.get("/api/v1/me", headers=bearer(token)), 401)


def test_patients_sessions_last_thirty_days(
    db: Database, clock: SettableClock, http: TestClient
) -> None:
    register(db, clock, "ana@example.test")
    session = _log_in(http, "ana@example.test")["session"]
    token = session["token"]
    for _ in range(29):
        clock.advance(timedelta(days=1) - timedelta(minutes=1))
        assert http.get("/api/v1/me", headers=bearer(token)).status_code == 200
    clock.advance(timedelta(days=1))
    assert_problem(http.get("/api/v1/me", headers=bearer(token)), 401)


def test_activity_is_written_at_most_once_a_minute(
    db: Database, clock: SettableClock, http: TestClient
) -> None:
    register(db, clock, "ana@example.test")
    token = _log_in(http, "ana@example.test")["session"]["token"]
    opened = clock.now()

    def last_seen() -> object:
        with db.read() as session:
            return session.get_one(AccessToken, hash_token(token)).last_seen_at

    assert last_seen() == opened
    clock.advance(timedelta(seconds=59))
    http.get("/api/v1/me", headers=bearer(token))
    assert last_seen() == opened
    clock.advance(timedelta(seconds=1))
    http.get("/api/v1/me", headers=bearer(token))
    assert last_seen() == clock.now()


def test_issued_tokens_have_no_idle_timeout(
    db: Database, clock: SettableClock, http: TestClient
) -> None:
    person = register(db, clock, "ana@example.test")
    clock.advance(timedelta(days=60))
    assert http.get("/api/v1/me", headers=bearer(person.token)).status_code == 200
    clock.advance(timedelta(days=31))
    assert_problem(http.get("/api/v1/me", headers=bearer(person.token)), 401)


def test_upkeep_purges(db: Database, clock: SettableClock, http: TestClient) -> None:
    register(db, clock, "ana@example.test")
    http.post(LOGIN, json=login_body(http, "nobody@example.test"))  # two throttle rows
    http.post("/api/v1/auth/signup", json={"email": "new@example.test"})  # a challenge, two more
    with db.write() as session:
        session.add(
            RecoveryGrant(
                token_hash=bytes(32),
                account_id=session.scalars(select(AccessToken.account_id)).one(),
                created_at=clock.now(),
                expires_at=clock.now() + timedelta(minutes=15),
            )
        )
    with db.write() as session:
        purge_expired_account_data(session, now=clock.now() + timedelta(days=1))
    with db.read() as session:
        assert session.query(AccessToken).count() == 1  # the issued token: 90 days
        assert session.query(EmailChallenge).count() == 0
        assert session.query(RecoveryGrant).count() == 0
        assert session.query(Throttle).count() == 4  # not idle long enough
    with db.write() as session:
        purge_expired_account_data(session, now=clock.now() + timedelta(days=91))
    with db.read() as session:
        assert session.query(AccessToken).count() == 0
        assert session.query(Throttle).count() == 0
