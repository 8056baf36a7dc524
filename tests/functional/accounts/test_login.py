"""Prelogin and login: same answers for unknown accounts, lockout, per-IP throttling."""

from __future__ import annotations

import base64
from datetime import timedelta
from typing import Any

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy import select

from colloque.accounts.config import AccountsConfig
from colloque.accounts.models import Account, Credentials, Throttle
from colloque.accounts.sessions import hash_token
from colloque.audit.models import AuditEvent
from colloque.clock import SettableClock
from colloque.config import Settings
from colloque.crypto.login import KDF_PARAMS_BYTES, KdfParams, verify_auth_key
from colloque.principal import credential_id
from colloque.storage.engine import Database
from tests.factories import make_person
from tests.functional.accounts.conftest import (
    OTHER_PASSWORD,
    PASSWORD,
    login_body,
    new_client,
    register,
)
from tests.functional.test_api import assert_problem
from tests.problems import without_request_id
from tests.smtp import Inbox

LOGIN = "/api/v1/auth/login"


def _params(http: TestClient, email: str) -> dict[str, str]:
    response = http.post("/api/v1/auth/prelogin", json={"email": email})
    assert response.status_code == 200
    body: dict[str, str] = response.json()
    return body


def _raw(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def test_prelogin_fake_is_stable_and_looks_real(
    db: Database, clock: SettableClock, http: TestClient
) -> None:
    known = register(db, clock, "known@example.test")
    real = _params(http, known.email)
    with db.read() as session:
        stored = session.get_one(Credentials, known.account_id)
    assert _raw(real["kdf_params"]) == stored.kdf_params
    assert _raw(real["recovery_kdf_params"]) == stored.recovery_kdf_params
    fake = _params(http, "nobody@example.test")
    assert _params(http, "  NOBODY@example.test ") == fake
    assert _params(http, "other@example.test") != fake
    assert set(fake) == set(real)
    for name in ("kdf_params", "recovery_kdf_params"):
        assert len(fake[name]) == len(real[name])
        parsed, genuine = (
            KdfParams.from_bytes(_raw(fake[name])),
            KdfParams.from_bytes(_raw(real[name])),
        )
        assert len(_raw(fake[name])) == KDF_PARAMS_BYTES
        assert parsed.cost == genuine.cost
    assert fake["kdf_params"] != fake["recovery_kdf_params"]
    # An account without credentials (issued tokens only) looks unknown too.
    make_person(db, clock, "Token Only")
    assert _params(http, "token.only@example.test") != real


def test_login_unlocks_the_keys(db: Database, clock: SettableClock, http: TestClient) -> None:
    person = register(db, clock, "ana@example.test")
    client = new_client(http)
    answer = client.log_in("Ana@Example.test", PASSWORD)
    assert answer["mfa"] == {"enabled": False, "required": False}
    assert client.account_id == person.account_id
    assert client.unlocked_keys.user_id == person.account_id
    assert client.me()["account_id"] == str(person.account_id)
    with db.read() as session:
        login = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "accounts:session:login")
        ).one()
    # The event names the session it opened, the one the client now uses.
    assert login.credential_id == credential_id(hash_token(client.token))


def test_wrong_password_and_unknown_address_look_the_same(
    db: Database, clock: SettableClock, http: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    register(db, clock, "ana@example.test")
    checked: list[str | None] = []
    original = verify_auth_key

    def spy(stored_hash: str | None, key: bytes) -> None:
        checked.append(stored_hash)
        original(stored_hash, key)

    monkeypatch.setattr("colloque.accounts.login.verify_auth_key", spy)
    wrong = http.post(LOGIN, json=login_body(http, "ana@example.test", OTHER_PASSWORD))
    unknown = http.post(LOGIN, json=login_body(http, "nobody@example.test"))
    assert_problem(wrong, 401)
    assert without_request_id(wrong.json()) == without_request_id(unknown.json())
    assert wrong.headers["content-length"] == unknown.headers["content-length"]
    assert "password" not in wrong.text.split("detail")[0]
    # The same work: one Argon2id check each (a dummy hash for the unknown address).
    assert len(checked) == 2
    assert checked[0] is not None
    assert checked[1] is None


def _fail(http: TestClient, email: str, times: int) -> list[Any]:
    body = login_body(http, email, OTHER_PASSWORD)
    return [http.post(LOGIN, json=body) for _ in range(times)]


def test_ten_failures_lock_the_account_and_tell_its_owner(
    db: Database, clock: SettableClock, http: TestClient, inbox: Inbox
) -> None:
    register(db, clock, "ana@example.test")
    failures = _fail(http, "ana@example.test", 10)
    assert [r.status_code for r in failures] == [401] * 10
    locked = http.post(LOGIN, json=login_body(http, "ana@example.test"))  # right password
    assert_problem(locked, 429)
    assert int(locked.headers["Retry-After"]) == 15 * 60
    notice = inbox.last_text("ana@example.test")
    assert "bloquée" in notice
    assert PASSWORD not in notice
    assert len(inbox.messages) == 1
    # An unknown address locks the same way, with the same answer and no mail.
    _fail(http, "nobody@example.test", 10)
    unknown = http.post(LOGIN, json=login_body(http, "nobody@example.test"))
    assert without_request_id(unknown.json()) == without_request_id(locked.json())
    assert len(inbox.messages) == 1
    with db.read() as session:
        keys = session.scalars(select(Throttle.key)).all()
        actions = session.scalars(select(AuditEvent.action)).all()
    assert not any("ana" in key or "nobody" in key for key in keys)
    assert actions.count("accounts:account:lock") == 1
    assert actions.count("accounts:session:login-failed") == 20
    # The lock ends; a success clears the count.
    clock.advance(timedelta(minutes=15))
    assert http.post(LOGIN, json=login_body(http, "ana@example.test")).status_code == 200


def test_locks_grow(db: Database, clock: SettableClock, http: TestClient) -> None:
    register(db, clock, "ana@example.test")
    _fail(http, "ana@example.test", 10)
    clock.advance(timedelta(minutes=15))
    _fail(http, "ana@example.test", 10)
    second = http.post(LOGIN, json=login_body(http, "ana@example.test"))
    assert int(second.headers["Retry-After"]) == 30 * 60


def test_too_many_failures_from_one_ip(
    db: Database, clock: SettableClock, http: TestClient, settings: Settings
) -> None:
    register(db, clock, "ana@example.test")
    for index in range(30):
        response = http.post(LOGIN, json=login_body(http, f"guess{index}@example.test"))
        assert response.status_code == 401
    refused = http.post(LOGIN, json=login_body(http, "ana@example.test"))
    assert_problem(refused, 429)
    assert 0 < int(refused.headers["Retry-After"]) <= 15 * 60
    # The address is counted under a keyed hash, never stored ("testclient" is the test peer).
    with db.read() as session:
        keys = set(session.scalars(select(Throttle.key)).all())
    client_key = AccountsConfig.from_settings(settings).client_key("testclient")
    assert f"login:ip:{client_key}" in keys
    assert not any("testclient" in key for key in keys)
    clock.advance(timedelta(minutes=15))
    assert http.post(LOGIN, json=login_body(http, "ana@example.test")).status_code == 200


def test_disabled_and_credential_less_accounts_cannot_log_in(
    db: Database, clock: SettableClock, http: TestClient
) -> None:
    person = register(db, clock, "ana@example.test")
    with db.write() as session:
        session.get_one(Account, person.account_id).disabled = True
    assert_problem(http.post(LOGIN, json=login_body(http, "ana@example.test")), 401)
    make_person(db, clock, "Token Only")
    assert_problem(http.post(LOGIN, json=login_body(http, "token.only@example.test")), 401)


def test_an_outdated_hash_is_replaced_at_login(
    db: Database, clock: SettableClock, http: TestClient
) -> None:
    person = register(db, clock, "ana@example.test")
    body = login_body(http, "ana@example.test")
    old = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash(
        base64.urlsafe_b64decode(body["auth_key"] + "=")
    )
    with db.write() as session:
        session.get_one(Credentials, person.account_id).auth_key_hash = old
    assert http.post(LOGIN, json=body).status_code == 200
    with db.read() as session:
        renewed = session.get_one(Credentials, person.account_id).auth_key_hash
    assert renewed != old
    assert "m=19456,t=2" in renewed
    assert http.post(LOGIN, json=body).status_code == 200


def test_login_input_is_checked(http: TestClient) -> None:
    body = login_body(http, "ana@example.test")
    assert_problem(http.post(LOGIN, json={**body, "auth_key": "c2hvcnQ"}), 422, "auth_key")
    assert_problem(http.post(LOGIN, json={**body, "session": "carrier-pigeon"}), 422, "session")
    assert_problem(http.post(LOGIN, json={"auth_key": body["auth_key"]}), 422, "email")
