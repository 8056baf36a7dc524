"""TOTP and recovery codes: enrolment, login, re-authentication, members who must have it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from colloque.accounts.devices import DEVICE_COOKIE
from colloque.accounts.models import MfaRecoveryCode, TotpFactor
from colloque.accounts.services import do_add_member
from colloque.audit.models import AuditEvent
from colloque.clock import SettableClock
from colloque.principal import Role
from colloque.storage.engine import Database
from tests.factories import World, build_world
from tests.functional.accounts.conftest import (
    PASSWORD,
    Registered,
    auth_key,
    bearer,
    login_body,
    new_client,
    register,
    totp_now,
)
from tests.functional.test_api import assert_problem
from tests.smtp import Inbox

LOGIN = "/api/v1/auth/login"


def _login(http: TestClient, email: str, **extra: Any) -> Any:
    return http.post(LOGIN, json=login_body(http, email, **extra))


def _enrol(http: TestClient, clock: SettableClock, token: str) -> tuple[str, list[str]]:
    setup = http.post("/api/v1/me/mfa/totp", headers=bearer(token))
    assert setup.status_code == 200, setup.text
    secret = setup.json()["secret"]
    assert setup.json()["uri"].startswith("otpauth://totp/Colloque:")
    confirmed = http.post(
        "/api/v1/me/mfa/totp/confirm",
        json={"code": totp_now(secret, clock)},
        headers=bearer(token),
    )
    assert confirmed.status_code == 200, confirmed.text
    codes: list[str] = confirmed.json()["recovery_codes"]
    return secret, codes


def _logged_in(http: TestClient, person: Registered, **extra: Any) -> str:
    response = _login(http, person.email, **extra)
    assert response.status_code == 200, response.text
    token: str = response.json()["session"]["token"]
    return token


def test_enrolment_needs_a_recent_reauthentication(
    db: Database, clock: SettableClock, http: TestClient
) -> None:
    person = register(db, clock, "ana@example.test")
    # An issued token never proved a password in this session.
    refused = http.post("/api/v1/me/mfa/totp", headers=bearer(person.token))
    assert assert_problem(refused, 403)["type"].endswith("reauthentication-required")
    token = _logged_in(http, person)  # a login is a fresh proof, for five minutes
    clock.advance(timedelta(minutes=5, seconds=1))
    assert_problem(http.post("/api/v1/me/mfa/totp", headers=bearer(token)), 403)
    reauth = http.post(
        "/api/v1/auth/reauth",
        json={"auth_key": auth_key(http, person.email)},
        headers=bearer(token),
    )
    assert reauth.status_code == 200, reauth.text
    assert http.post("/api/v1/me/mfa/totp", headers=bearer(token)).status_code == 200


def test_reauthentication_with_a_wrong_password_counts(
    db: Database, clock: SettableClock, http: TestClient
) -> None:
    person = register(db, clock, "ana@example.test")
    token = _logged_in(http, person)
    # From a device the account does not know (a known one has its own lock: test_login_attack).
    http.cookies.delete(DEVICE_COOKIE)
    wrong = http.post(
        "/api/v1/auth/reauth",
        json={"auth_key": auth_key(http, person.email, "not the password at all")},
        headers=bearer(token),
    )
    assert_problem(wrong, 401)
    # Ten wrong ones lock the address like failed logins do.
    for _ in range(9):
        http.post(
            "/api/v1/auth/reauth",
            json={"auth_key": auth_key(http, person.email, "not the password at all")},
            headers=bearer(token),
        )
    assert_problem(_login(http, person.email), 429)


def test_totp_login_and_single_use_codes(
    db: Database, clock: SettableClock, http: TestClient
) -> None:
    person = register(db, clock, "ana@example.test")
    token = _logged_in(http, person)
    secret, codes = _enrol(http, clock, token)
    assert len(codes) == 10
    assert len(set(codes)) == 10
    with db.read() as session:
        factor = session.get_one(TotpFactor, person.account_id)
        stored = session.scalars(select(MfaRecoveryCode.code_hash)).all()
    # Sealed at rest under the deployment secret: the seed is not in the row.
    assert factor.sealed_secret[:2] == b"\x01\x09"
    assert secret.encode() not in factor.sealed_secret
    assert len(stored) == 10
    assert all(code.encode() not in b"".join(stored) for code in codes)
    # Without a code: asked for one. Wrong: refused (and counted).
    missing = _login(http, person.email)
    assert assert_problem(missing, 401, "totp")["type"].endswith("mfa-required")
    assert_problem(_login(http, person.email, totp="000000"), 401, "totp")
    assert_problem(_login(http, person.email, totp="12ab56"), 401, "totp")
    assert_problem(
        _login(http, person.email, totp="\uff11\uff12\uff13\uff14\uff15\uff16"), 401, "totp"
    )
    clock.advance(timedelta(seconds=30))
    ok = _login(http, person.email, totp=totp_now(secret, clock))
    assert ok.status_code == 200, ok.text
    assert ok.json()["mfa"] == {"enabled": True, "required": False}
    # The same code again: refused (replay).
    assert_problem(_login(http, person.email, totp=totp_now(secret, clock)), 401, "totp")
    # A code from the previous step is still accepted once (clock drift), if not used before.
    clock.advance(timedelta(seconds=30))
    late = _login(http, person.email, totp=totp_now(secret, clock, steps=-1))
    assert_problem(late, 401, "totp")  # that step was the one just used
    assert _login(http, person.email, totp=totp_now(secret, clock)).status_code == 200
    # Recovery codes: each works once.
    assert _login(http, person.email, recovery_code=codes[0].upper()).status_code == 200
    assert_problem(_login(http, person.email, recovery_code=codes[0]), 401, "recovery_code")
    assert _login(http, person.email, recovery_code=codes[1]).status_code == 200
    with db.read() as session:
        actions = session.scalars(select(AuditEvent.action)).all()
    assert actions.count("accounts:mfa:use-code") == 2
    assert "accounts:mfa:enable" in actions


def test_client_logs_in_with_totp(
    db: Database, clock: SettableClock, http: TestClient, inbox: Inbox
) -> None:
    client = new_client(http)
    client.sign_up("ana@example.test", PASSWORD, "Ana", read_code=inbox.code)
    secret = client.begin_totp()
    codes = client.confirm_totp(totp_now(secret, clock))
    assert len(codes) == 10
    clock.advance(timedelta(seconds=30))
    again = new_client(http)
    answer = again.log_in("ana@example.test", PASSWORD, totp=totp_now(secret, clock))
    assert answer["mfa"]["enabled"] is True
    assert again.unlocked_keys.user_id == client.account_id


def test_enrolment_errors_and_renewal(db: Database, clock: SettableClock, http: TestClient) -> None:
    person = register(db, clock, "ana@example.test")
    token = _logged_in(http, person)
    headers = bearer(token)
    confirm = "/api/v1/me/mfa/totp/confirm"
    assert_problem(http.post(confirm, json={"code": "123456"}, headers=headers), 422, "code")
    renew = "/api/v1/me/mfa/recovery-codes"
    assert_problem(http.post(renew, headers=headers), 422, "totp")
    assert_problem(http.delete("/api/v1/me/mfa/totp", headers=headers), 422, "totp")
    http.post("/api/v1/me/mfa/totp", headers=headers)
    assert_problem(http.post(confirm, json={"code": "000000"}, headers=headers), 422, "code")
    # A second start replaces the pending seed.
    _, codes = _enrol(http, clock, token)
    assert_problem(http.post("/api/v1/me/mfa/totp", headers=headers), 409)
    renewed = http.post(renew, headers=headers)
    assert renewed.status_code == 200
    fresh = renewed.json()["recovery_codes"]
    assert set(fresh).isdisjoint(codes)
    assert_problem(_login(http, person.email, recovery_code=codes[0]), 401, "recovery_code")
    assert _login(http, person.email, recovery_code=fresh[0]).status_code == 200


def test_reauthentication_asks_for_the_code(
    db: Database, clock: SettableClock, http: TestClient
) -> None:
    person = register(db, clock, "ana@example.test")
    token = _logged_in(http, person)
    secret, _ = _enrol(http, clock, token)
    url = "/api/v1/auth/reauth"
    body = {"auth_key": auth_key(http, person.email)}
    assert_problem(http.post(url, json=body, headers=bearer(token)), 401, "totp")
    clock.advance(timedelta(seconds=30))
    ok = http.post(url, json={**body, "totp": totp_now(secret, clock)}, headers=bearer(token))
    assert ok.status_code == 200
    assert ok.json()["valid_until"].startswith(
        (clock.now() + timedelta(minutes=5)).isoformat()[:16]
    )


def test_patients_may_turn_it_off(
    db: Database, clock: SettableClock, http: TestClient, inbox: Inbox
) -> None:
    person = register(db, clock, "ana@example.test")
    token = _logged_in(http, person)
    _enrol(http, clock, token)
    off = http.delete("/api/v1/me/mfa/totp", headers=bearer(token))
    assert off.status_code == 204
    assert "désactivée" in inbox.last_text(person.email)
    assert _login(http, person.email).status_code == 200


def _member(db: Database, clock: SettableClock, world: World, email: str) -> Registered:
    person = register(db, clock, email)
    with db.write() as session:
        do_add_member(
            session, practice_id=world.practice_id, account_id=person.account_id, role=Role.ADMIN
        )
    return person


def test_members_must_set_up_mfa_before_any_practice_action(
    db: Database, clock: SettableClock, http: TestClient
) -> None:
    world = build_world(db, clock)
    person = _member(db, clock, world, "admin2@example.test")
    login = _login(http, person.email)
    assert login.json()["mfa"] == {"enabled": False, "required": True}
    token = login.json()["session"]["token"]
    other = _logged_in(http, person)
    me = http.get("/api/v1/me", headers=bearer(token)).json()
    assert me["mfa_satisfied"] is False
    assert me["memberships"][0]["role"] == "admin"
    agenda = f"/api/v1/practices/{world.practice_id}/invitations"
    assert_problem(http.get(agenda, headers=bearer(token)), 403)
    secret, _ = _enrol(http, clock, token)
    assert http.get("/api/v1/me", headers=bearer(token)).json()["mfa_satisfied"] is True
    assert http.get(agenda, headers=bearer(token)).status_code == 200
    # A session opened before the set-up did not pass a second factor.
    assert http.get("/api/v1/me", headers=bearer(other)).json()["mfa_satisfied"] is False
    # Members keep it.
    assert_problem(http.delete("/api/v1/me/mfa/totp", headers=bearer(token)), 403)
    clock.advance(timedelta(seconds=30))
    fresh = _logged_in(http, person, totp=totp_now(secret, clock))
    assert http.get("/api/v1/me", headers=bearer(fresh)).json()["mfa_satisfied"] is True


def test_turning_it_off_unsatisfies_the_sessions(
    db: Database, clock: SettableClock, http: TestClient
) -> None:
    world = build_world(db, clock)
    person = register(db, clock, "ana@example.test")
    token = _logged_in(http, person)
    _enrol(http, clock, token)
    assert http.delete("/api/v1/me/mfa/totp", headers=bearer(token)).status_code == 204
    with db.write() as session:
        do_add_member(
            session,
            practice_id=world.practice_id,
            account_id=person.account_id,
            role=Role.SECRETARY,
        )
    assert http.get("/api/v1/me", headers=bearer(token)).json()["mfa_satisfied"] is False
    # Tokens issued in-process stay vouched for.
    assert http.get("/api/v1/me", headers=bearer(person.token)).json()["mfa_satisfied"] is True
