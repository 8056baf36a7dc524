"""Password change (every session ends) and recovery with the recovery code."""

from __future__ import annotations

import base64
import uuid
from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from colloque.accounts.devices import DEVICE_COOKIE
from colloque.accounts.models import AccessToken, Credentials, KnownDevice, Throttle
from colloque.accounts.sessions import hash_token
from colloque.api.schemas import b64
from colloque.client import ApiError, WeakPassword
from colloque.clock import SettableClock
from colloque.crypto.errors import CryptoError
from colloque.crypto.keys import RecoveryCode
from colloque.crypto.login import Argon2Cost, KdfParams, derive_login_keys
from colloque.storage.engine import Database
from tests.functional.accounts.conftest import (
    OTHER_PASSWORD,
    PASSWORD,
    auth_key,
    bearer,
    login_body,
    new_client,
    register,
    sign_up,
)
from tests.functional.accounts.test_devices import SAFARI_IPHONE
from tests.functional.test_api import assert_problem
from tests.problems import without_request_id
from tests.smtp import Inbox

NEW_PASSWORD = "a brand new Passphrase, 2026"


def test_change_password_ends_every_other_session(
    db: Database, clock: SettableClock, http: TestClient, inbox: Inbox
) -> None:
    person = register(db, clock, "ana@example.test")
    first, second = new_client(http), new_client(http)
    first.log_in(person.email, PASSWORD)
    second.log_in(person.email, PASSWORD)
    keys_before = first.unlocked_keys
    old_token = first.token
    first.change_password(PASSWORD, NEW_PASSWORD)
    assert first.token != old_token
    assert first.me()["account_id"] == str(person.account_id)
    for token in (old_token, second.token, person.token):
        assert_problem(http.get("/api/v1/me", headers=bearer(token)), 401)
    with pytest.raises(ApiError) as caught:
        new_client(http).log_in(person.email, PASSWORD)
    assert caught.value.status == 401
    again = new_client(http)
    again.log_in(person.email, NEW_PASSWORD)
    assert again.unlocked_keys.encryption_secret == keys_before.encryption_secret
    notice = inbox.last_text(person.email)
    assert "mot de passe" in notice
    assert NEW_PASSWORD not in notice


def test_change_password_checks_locally_first(
    db: Database, clock: SettableClock, http: TestClient
) -> None:
    person = register(db, clock, "ana@example.test")
    client = new_client(http)
    client.log_in(person.email, PASSWORD)
    with pytest.raises(WeakPassword):
        client.change_password(PASSWORD, "password1234")
    with pytest.raises(CryptoError):  # the old password does not open the keys
        client.change_password(OTHER_PASSWORD, NEW_PASSWORD)


def _change_body(http: TestClient, email: str, old: str, **overrides: Any) -> dict[str, Any]:
    body = {
        "old_auth_key": auth_key(http, email, old),
        "new_auth_key": "B" * 43,
        "new_kdf_params": b64(KdfParams(bytes(16), Argon2Cost(1, 8192)).to_bytes()),
        "new_sealed_by_password": "A" * 254,
    }
    body.update(overrides)
    return body


def test_change_password_needs_the_old_key(
    db: Database, clock: SettableClock, http: TestClient
) -> None:
    person = register(db, clock, "ana@example.test")
    url = "/api/v1/auth/password"
    headers = bearer(person.token)
    refused = http.post(url, json=_change_body(http, person.email, OTHER_PASSWORD), headers=headers)
    assert_problem(refused, 401)
    with db.read() as session:
        assert session.scalars(select(Throttle.count)).all() == [1, 1]
    weak = b64(KdfParams(bytes(16), Argon2Cost(1, 4096)).to_bytes())
    low = http.post(
        url, json=_change_body(http, person.email, PASSWORD, new_kdf_params=weak), headers=headers
    )
    assert_problem(low, 422, "new_kdf_params")
    assert_problem(http.post(url, json=_change_body(http, person.email, PASSWORD)), 401)
    # An issued token's holder gets a bearer session back.
    done = http.post(url, json=_change_body(http, person.email, PASSWORD), headers=headers)
    assert done.status_code == 200, done.text
    assert done.json()["session"]["kind"] == "bearer"


def test_change_password_from_a_browser_keeps_a_cookie_session(
    db: Database, clock: SettableClock, http: TestClient
) -> None:
    person = register(db, clock, "ana@example.test")
    login = http.post(
        "/api/v1/auth/login", json=login_body(http, person.email, session="cookie")
    ).json()
    csrf = {"X-CSRF-Token": login["session"]["csrf_token"]}
    params = http.post("/api/v1/auth/password/params", headers=csrf).json()["kdf_params"]
    done = http.post(
        "/api/v1/auth/password",
        json=_change_body(http, person.email, PASSWORD, new_kdf_params=params),
        headers=csrf,
    )
    assert done.status_code == 200, done.text
    session = done.json()["session"]
    assert session["kind"] == "cookie"
    assert session["token"] is None
    assert http.cookies["colloque_csrf"] == session["csrf_token"]
    assert http.get("/api/v1/me").status_code == 200


def test_recovery_sets_a_new_password_and_a_new_code(
    db: Database, clock: SettableClock, http: TestClient, inbox: Inbox
) -> None:
    first = new_client(http)
    code = sign_up(first, inbox, "ana@example.test")
    keys = first.unlocked_keys
    stale_token = first.token
    helper = new_client(http)
    new_code = helper.recover("ana@example.test", code.lower(), NEW_PASSWORD)
    assert new_code != code
    assert helper.unlocked_keys.signing_seed == keys.signing_seed
    assert helper.me()["account_id"] == str(keys.user_id)
    assert_problem(http.get("/api/v1/me", headers=bearer(stale_token)), 401)
    assert "mot de passe" in inbox.last_text("ana@example.test")
    with pytest.raises(ApiError):
        new_client(http).log_in("ana@example.test", PASSWORD)
    new_client(http).log_in("ana@example.test", NEW_PASSWORD)
    # The spent code no longer works; the new one does.
    with pytest.raises(ApiError) as caught:
        new_client(http).recover("ana@example.test", code, OTHER_PASSWORD)
    assert caught.value.status == 401
    new_client(http).recover("ana@example.test", new_code, OTHER_PASSWORD)
    new_client(http).log_in("ana@example.test", OTHER_PASSWORD)


def _recovery_start(http: TestClient, email: str, code: str) -> Any:
    params = http.post("/api/v1/auth/prelogin", json={"email": email}).json()
    raw = base64.urlsafe_b64decode(params["recovery_kdf_params"] + "==")
    proof = derive_login_keys(RecoveryCode.parse(code).text, raw, insecure_allow_weak_cost=True)
    return http.post(
        "/api/v1/auth/recovery", json={"email": email, "recovery_auth_key": b64(proof.auth_key)}
    )


def _complete_body(start: dict[str, Any]) -> dict[str, Any]:
    return {
        "recovery_token": start["recovery_token"],
        "new_auth_key": "B" * 43,
        "new_kdf_params": start["kdf_params"],
        "new_sealed_by_password": "A" * 254,
        "new_recovery_auth_key": "C" * 43,
        "new_recovery_kdf_params": start["recovery_kdf_params"],
        "new_sealed_by_recovery": "A" * 290,
    }


def test_recovery_grant_is_short_and_single_use(
    db: Database, clock: SettableClock, http: TestClient, inbox: Inbox
) -> None:
    code = sign_up(new_client(http), inbox, "ana@example.test")
    wrong = _recovery_start(http, "ana@example.test", "A" * 32)
    unknown = _recovery_start(http, "nobody@example.test", code)
    assert_problem(wrong, 401)
    assert without_request_id(wrong.json()) == without_request_id(unknown.json())
    late = _recovery_start(http, "ana@example.test", code).json()
    clock.advance(timedelta(minutes=15))
    expired = http.post("/api/v1/auth/recovery/complete", json=_complete_body(late))
    assert_problem(expired, 401, "recovery_token")
    start = _recovery_start(http, "ana@example.test", code).json()
    url = "/api/v1/auth/recovery/complete"
    assert http.post(url, json=_complete_body(start)).status_code == 200
    assert_problem(http.post(url, json=_complete_body(start)), 401, "recovery_token")
    with db.read() as session:
        stored = session.scalars(select(Credentials.recovery_auth_key_hash)).one()
    assert stored.startswith("$argon2id$")


def test_the_device_that_recovers_is_known_from_then_on(
    db: Database, app: FastAPI, http: TestClient, inbox: Inbox
) -> None:
    """The recovery proved the address and the code: the device that made it is remembered as a
    login's is, so the attempts an attacker makes from elsewhere do not hold it back."""
    code = sign_up(new_client(http), inbox, "ana@example.test")
    with TestClient(app, base_url="https://testserver") as phone:
        start = _recovery_start(phone, "ana@example.test", code).json()
        answer = phone.post(
            "/api/v1/auth/recovery/complete",
            json=_complete_body(start),
            headers={"User-Agent": SAFARI_IPHONE},
        )
        assert answer.status_code == 200
        cookie = phone.cookies[DEVICE_COOKIE]
    with db.read() as session:
        known = session.get(
            KnownDevice, (uuid.UUID(answer.json()["account_id"]), hash_token(cookie))
        )
        assert known is not None
        assert known.label == "Mobile Safari / iOS"
        # The session it opened says so too.
        labels = session.scalars(select(AccessToken.label)).all()
    assert "Mobile Safari / iOS" in labels
