"""Sessions and devices: an owner lists and ends their sessions, an admin ends a member's, and a
staff account's tokens issued in-process end like its sessions (docs/accounts.md)."""

from __future__ import annotations

from datetime import timedelta
from email.header import decode_header, make_header
from typing import Any
from uuid import uuid4

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from colloque.accounts.services import do_add_member, do_issue_token, hash_token
from colloque.audit.models import AuditEvent
from colloque.audit.services import AuditAction
from colloque.clock import SettableClock
from colloque.principal import Role, credential_id
from colloque.storage.engine import Database
from tests.factories import World, build_world
from tests.functional.accounts.conftest import (
    OTHER_PASSWORD,
    PASSWORD,
    Registered,
    bearer,
    login_body,
    new_client,
    register,
)
from tests.functional.test_api import assert_problem
from tests.problems import same_bytes_but_request_id
from tests.smtp import Inbox

SESSIONS = "/api/v1/me/sessions"
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0"
NEW_PASSWORD = "a brand new Passphrase, 2026"


def _log_in(http: TestClient, email: str, kind: str = "token", **headers: str) -> dict[str, Any]:
    response = http.post(
        "/api/v1/auth/login", json=login_body(http, email, session=kind), headers=headers
    )
    assert response.status_code == 200, response.text
    session: dict[str, Any] = response.json()["session"]
    return session


def _sessions(http: TestClient, token: str) -> list[dict[str, Any]]:
    response = http.get(SESSIONS, headers=bearer(token))
    assert response.status_code == 200, response.text
    sessions: list[dict[str, Any]] = response.json()["sessions"]
    return sessions


def _actions(db: Database) -> list[str]:
    with db.read() as session:
        return list(session.scalars(select(AuditEvent.action)))


def test_owners_list_their_sessions_and_end_one(
    db: Database, clock: SettableClock, app: FastAPI, http: TestClient
) -> None:
    ana = register(db, clock, "ana@example.test")  # and an issued token
    with TestClient(app, base_url="https://testserver", client=("203.0.113.7", 50000)) as there:
        phone = _log_in(there, ana.email, **{"User-Agent": FIREFOX})["token"]
    clock.advance(timedelta(minutes=5))
    here = _log_in(http, ana.email)["token"]
    listed = _sessions(http, here)
    assert [s["current"] for s in listed] == [True, False, False]
    current, *others = listed
    assert current["kind"] == "token"
    assert current["place"] is None  # the test client's address is no IP address
    by_id = {s["session_id"]: s for s in others}
    firefox = by_id[str(credential_id(hash_token(phone)))]
    assert firefox["browser"] == "Firefox / Linux"
    assert firefox["place"] == "203.0.113.0/24"
    assert firefox["last_used_at"] < current["last_used_at"]
    issued = by_id[str(credential_id(hash_token(ana.token)))]
    assert issued["browser"] == "unknown"
    for token in (phone, here, ana.token):  # neither a token nor its hash is shown
        text = http.get(SESSIONS, headers=bearer(here)).text
        assert token not in text
        assert hash_token(token).hex() not in text

    assert (
        http.delete(f"{SESSIONS}/{firefox['session_id']}", headers=bearer(here)).status_code == 204
    )
    assert_problem(http.get("/api/v1/me", headers=bearer(phone)), 401)
    assert len(_sessions(http, here)) == 2
    assert AuditAction.SESSION_ENDED.value in _actions(db)
    # Once ended, it is not there any more.
    assert_problem(
        http.delete(f"{SESSIONS}/{firefox['session_id']}", headers=bearer(here)),
        404,
        "session_id",
    )


def test_another_accounts_session_answers_like_a_missing_one(
    db: Database, clock: SettableClock, http: TestClient
) -> None:
    ana = register(db, clock, "ana@example.test")
    bob = register(db, clock, "bob@example.test")
    theirs = http.delete(
        f"{SESSIONS}/{credential_id(hash_token(bob.token))}", headers=bearer(ana.token)
    )
    missing = http.delete(f"{SESSIONS}/{uuid4()}", headers=bearer(ana.token))
    assert_problem(theirs, 404, "session_id")
    assert same_bytes_but_request_id(theirs.content, missing.content)
    assert http.get("/api/v1/me", headers=bearer(bob.token)).status_code == 200


def test_ending_the_current_session_logs_out(
    db: Database, clock: SettableClock, http: TestClient
) -> None:
    ana = register(db, clock, "ana@example.test")
    session = _log_in(http, ana.email, kind="cookie")
    mine = next(s for s in http.get(SESSIONS).json()["sessions"] if s["current"])
    assert mine["kind"] == "cookie"
    response = http.delete(
        f"{SESSIONS}/{mine['session_id']}", headers={"X-CSRF-Token": session["csrf_token"]}
    )
    assert response.status_code == 204
    assert 'colloque_session=""' in response.headers["set-cookie"]
    assert_problem(http.get("/api/v1/me", headers={"Cookie": ""}), 401)
    assert http.get("/api/v1/me", headers=bearer(ana.token)).status_code == 200


def test_revoke_others_keeps_this_one(db: Database, clock: SettableClock, http: TestClient) -> None:
    ana = register(db, clock, "ana@example.test")
    other = _log_in(http, ana.email)["token"]
    here = _log_in(http, ana.email)["token"]
    response = http.post(f"{SESSIONS}/revoke-others", headers=bearer(here))
    assert response.json() == {"ended_sessions": 2}
    for ended in (ana.token, other):
        assert_problem(http.get("/api/v1/me", headers=bearer(ended)), 401)
    assert [s["current"] for s in _sessions(http, here)] == [True]


def _secretary(db: Database, clock: SettableClock, world: World, email: str) -> Registered:
    """A member of the world's practice with an address (and an issued token)."""
    person = register(db, clock, email)
    with db.write() as session:
        do_add_member(
            session,
            practice_id=world.practice_id,
            account_id=person.account_id,
            role=Role.SECRETARY,
        )
    return person


def test_admins_end_a_members_sessions_and_the_member_is_told(
    db: Database, clock: SettableClock, http: TestClient, inbox: Inbox
) -> None:
    world = build_world(db, clock)
    secretary = _secretary(db, clock, world, "sec@example.test")
    token = secretary.token
    login = _log_in(http, "sec@example.test")["token"]
    member = f"/api/v1/practices/{world.practice_id}/members/{secretary.account_id}/sessions"

    listed = http.get(member, headers=bearer(world.admin.token))
    assert listed.status_code == 200, listed.text
    assert len(listed.json()["sessions"]) == 2
    assert not any(s["current"] for s in listed.json()["sessions"])
    # Another member may not; neither list nor end.
    assert_problem(http.get(member, headers=bearer(login)), 403)
    assert_problem(http.post(member + "/revoke", headers=bearer(login)), 403)
    # Not a member of this practice: like a member that does not exist.
    stranger = f"/api/v1/practices/{world.practice_id}/members/{world.holder.account_id}/sessions"
    assert_problem(http.post(stranger + "/revoke", headers=bearer(world.admin.token)), 404)

    ended = http.post(member + "/revoke", headers=bearer(world.admin.token))
    assert ended.json() == {"ended_sessions": 2}
    for gone in (token, login):
        assert_problem(http.get("/api/v1/me", headers=bearer(gone)), 401)
    assert http.get("/api/v1/me", headers=bearer(world.admin.token)).status_code == 200
    [notice] = inbox.to("sec@example.test")
    assert str(make_header(decode_header(notice["Subject"]))) == (
        "Vos sessions Colloque ont été fermées"
    )
    text = inbox.last_text("sec@example.test")
    assert "a fermé toutes vos sessions" in text
    assert login not in text
    actions = _actions(db)
    assert AuditAction.MEMBER_SESSIONS_LISTED.value in actions
    assert AuditAction.MEMBER_SESSIONS_ENDED.value in actions


def test_staff_tokens_issued_in_process_end_like_staff_sessions(
    db: Database, clock: SettableClock, http: TestClient
) -> None:
    world = build_world(db, clock)
    account_id = _secretary(db, clock, world, "sec@example.test").account_id
    with db.write() as session:
        short = do_issue_token(
            session, now=clock.now(), account_id=account_id, lifetime=timedelta(days=90)
        )
        integration = do_issue_token(
            session,
            now=clock.now(),
            account_id=account_id,
            lifetime=timedelta(days=90),
            integration=True,
        )
    expires = {s["session_id"]: s["expires_at"] for s in _sessions(http, integration)}
    assert expires[str(credential_id(hash_token(short)))].startswith(
        (clock.now() + timedelta(hours=12)).strftime("%Y-%m-%dT%H:%M")
    )
    clock.advance(timedelta(minutes=31))
    assert_problem(http.get("/api/v1/me", headers=bearer(short)), 401)
    clock.advance(timedelta(days=60))
    assert http.get("/api/v1/me", headers=bearer(integration)).status_code == 200


SAFARI = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_1) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.1 Safari/605.1.15"
)


def test_recovery_and_key_reset_sessions_show_their_device(
    app: FastAPI, http: TestClient, inbox: Inbox
) -> None:
    """The session a recovery or a key reset opens is listed with its software and place, as a
    login's is (not as an unknown device)."""
    code = new_client(http).sign_up(
        "ana@example.test", PASSWORD, "Ana Martin", read_code=inbox.code
    )
    for agent, address, prefix in (
        (FIREFOX, "203.0.113.7", "203.0.113.0/24"),
        (SAFARI, "2001:db8:5:6::9", "2001:db8:5::/48"),
    ):
        with TestClient(
            app,
            base_url="https://testserver",
            client=(address, 50000),
            headers={"User-Agent": agent},
        ) as there:
            owner = new_client(there)
            if agent == FIREFOX:
                code = owner.recover("ana@example.test", code, OTHER_PASSWORD)
                expected = "Firefox / Linux"
            else:
                owner.reset_keys("ana@example.test", NEW_PASSWORD, inbox.code)
                expected = "Safari / Mac OS X"
            (mine,) = _sessions(http, owner.token)  # every other session ended with it
        assert mine["current"]
        assert (mine["browser"], mine["place"]) == (expected, prefix)
