"""Sign-up: the mailed code, the client's keys, what the server stores."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from colloque.accounts.models import Account, Credentials, EmailChallenge, KeyBundleRow
from colloque.api.schemas import b64
from colloque.client import ApiError, WeakPassword
from colloque.clock import SettableClock
from colloque.crypto.keys import unlock_with_recovery_code
from colloque.crypto.login import Argon2Cost, KdfParams
from colloque.storage.engine import Database
from tests.functional.accounts.conftest import (
    PASSWORD,
    new_client,
    sign_up,
)
from tests.functional.test_api import assert_problem
from tests.problems import without_request_id
from tests.smtp import Inbox


def test_sign_up_happy_path(db: Database, http: TestClient, inbox: Inbox) -> None:
    client = new_client(http)
    recovery_code = sign_up(client, inbox, "Ana.Martin@Example.test")
    assert len(recovery_code) == 39  # 8 groups of 4, hyphenated
    me = client.me()
    assert me["account_id"] == str(client.account_id)
    assert me["memberships"] == []
    assert me["mfa_satisfied"] is True
    [(recipients, mail)] = inbox.messages
    assert recipients == ["ana.martin@example.test"]
    assert mail["Subject"] == "Votre code Colloque"
    with db.read() as session:
        account = session.get_one(Account, client.account_id)
        assert account.email == "ana.martin@example.test"
        assert account.display_name == "Ana Martin"
        credentials = session.get_one(Credentials, client.account_id)
        assert credentials.auth_key_hash.startswith("$argon2id$")
        keys = session.get_one(KeyBundleRow, client.account_id)
        assert keys.encryption_public == client.unlocked_keys.encryption_public
        assert session.scalars(select(EmailChallenge)).all() == []
    # Nothing the server stores contains the password; the recovery code opens the keys.
    assert PASSWORD.encode() not in keys.sealed_by_password + credentials.auth_key_hash.encode()
    recovered = unlock_with_recovery_code(
        keys.sealed_by_recovery,
        user_id=client.account_id,
        recovery_code=recovery_code,
        insecure_allow_weak_cost=True,
    )
    assert recovered.signing_seed == client.unlocked_keys.signing_seed


def test_weak_password_is_refused_before_any_request(http: TestClient, inbox: Inbox) -> None:
    client = new_client(http)
    with pytest.raises(WeakPassword, match="at least 12"):
        client.sign_up("ana@example.test", "short", "Ana", read_code=inbox.code)
    with pytest.raises(WeakPassword, match="too easy"):
        client.sign_up("ana@example.test", "password1234", "Ana", read_code=inbox.code)
    with pytest.raises(WeakPassword, match="too easy"):
        client.sign_up(
            "ana.martin@example.test", "ana.martin@example.test", "Ana", read_code=inbox.code
        )
    assert inbox.messages == []


def _start(http: TestClient, email: str) -> str:
    response = http.post("/api/v1/auth/signup", json={"email": email})
    assert response.status_code == 202, response.text
    assert response.json()["expires_in_seconds"] == 600
    signup_id: str = response.json()["signup_id"]
    return signup_id


def test_wrong_and_expired_codes(http: TestClient, inbox: Inbox, clock: SettableClock) -> None:
    signup_id = _start(http, "ben@example.test")
    code = inbox.code("ben@example.test")
    wrong = "000000" if code != "000000" else "111111"
    refused = http.post("/api/v1/auth/signup/verify", json={"signup_id": signup_id, "code": wrong})
    assert_problem(refused, 422, "code")
    clock.advance(timedelta(minutes=10))
    late = http.post("/api/v1/auth/signup/verify", json={"signup_id": signup_id, "code": code})
    assert_problem(late, 422, "code")
    assert without_request_id(late.json()) == without_request_id(refused.json())
    # An unknown sign-up looks the same.
    unknown = http.post(
        "/api/v1/auth/signup/verify",
        json={"signup_id": "00000000-0000-4000-8000-000000000000", "code": code},
    )
    assert without_request_id(unknown.json()) == without_request_id(refused.json())


def test_five_wrong_codes_spend_the_sign_up(http: TestClient, inbox: Inbox) -> None:
    signup_id = _start(http, "cleo@example.test")
    code = inbox.code("cleo@example.test")
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(5):
        http.post("/api/v1/auth/signup/verify", json={"signup_id": signup_id, "code": wrong})
    right = http.post("/api/v1/auth/signup/verify", json={"signup_id": signup_id, "code": code})
    assert_problem(right, 422, "code")


def test_a_code_is_accepted_once(http: TestClient, inbox: Inbox) -> None:
    signup_id = _start(http, "dan@example.test")
    body = {"signup_id": signup_id, "code": inbox.code("dan@example.test")}
    first = http.post("/api/v1/auth/signup/verify", json=body)
    assert first.status_code == 200
    assert set(first.json()) == {"account_id", "signup_token", "kdf_params", "recovery_kdf_params"}
    assert_problem(http.post("/api/v1/auth/signup/verify", json=body), 422, "code")


def test_known_address_gets_a_notice_and_the_same_answer(
    db: Database, http: TestClient, inbox: Inbox
) -> None:
    sign_up(new_client(http), inbox, "eve@example.test")
    known = http.post("/api/v1/auth/signup", json={"email": "EVE@example.test"})
    unknown = http.post("/api/v1/auth/signup", json={"email": "fay@example.test"})
    assert known.status_code == unknown.status_code == 202
    assert set(known.json()) == set(unknown.json())
    notice = inbox.last_text("eve@example.test")
    assert "déjà un" in notice
    assert re.search(r"\d{6}", notice) is None
    # No code was sent, so none verifies.
    signup_id = known.json()["signup_id"]
    for guess in ("123456", "000000"):
        attempt = http.post(
            "/api/v1/auth/signup/verify", json={"signup_id": signup_id, "code": guess}
        )
        assert_problem(attempt, 422, "code")


def test_codes_per_address_are_limited(http: TestClient, inbox: Inbox) -> None:
    for _ in range(5):
        _start(http, "gus@example.test")
    refused = http.post("/api/v1/auth/signup", json={"email": "gus@example.test"})
    body = assert_problem(refused, 429)
    assert int(refused.headers["Retry-After"]) > 0
    assert body["retry_after"] == int(refused.headers["Retry-After"])
    assert len(inbox.to("gus@example.test")) == 5


def test_complete_needs_a_live_token_and_a_free_address(
    http: TestClient, inbox: Inbox, clock: SettableClock
) -> None:
    client = new_client(http)
    first_id = _start(http, "hal@example.test")
    first_code = inbox.code("hal@example.test")
    second_id = _start(http, "hal@example.test")
    second_code = inbox.code("hal@example.test")
    # The first sign-up finishes through the client (which starts a third; fine).
    sign_up(client, inbox, "hal@example.test")
    ticket = http.post(
        "/api/v1/auth/signup/verify", json={"signup_id": second_id, "code": second_code}
    )
    # The address was free when the code was mailed, not any more.
    assert ticket.status_code == 200
    body = _complete_body(ticket.json())
    assert_problem(http.post("/api/v1/auth/signup/complete", json=body), 422, "email")
    # An expired or unknown token.
    stale = http.post(
        "/api/v1/auth/signup/verify", json={"signup_id": first_id, "code": first_code}
    )
    clock.advance(timedelta(minutes=31))
    late = http.post("/api/v1/auth/signup/complete", json=_complete_body(stale.json()))
    assert_problem(late, 422, "signup_token")


def _complete_body(ticket: dict[str, str], **overrides: str) -> dict[str, str]:
    key = "A" * 43  # 32 zero bytes, base64url
    sealed = "A" * 254  # 190 bytes
    body = {
        "signup_token": ticket["signup_token"],
        "display_name": "Hal",
        "auth_key": key,
        "kdf_params": ticket["kdf_params"],
        "recovery_auth_key": key,
        "recovery_kdf_params": ticket["recovery_kdf_params"],
        "encryption_public": key,
        "signing_public": key,
        "sealed_by_password": sealed,
        "sealed_by_recovery": sealed,
    }
    body.update(overrides)
    return body


def test_complete_checks_every_field(http: TestClient, inbox: Inbox) -> None:
    signup_id = _start(http, "ivy@example.test")
    ticket = http.post(
        "/api/v1/auth/signup/verify",
        json={"signup_id": signup_id, "code": inbox.code("ivy@example.test")},
    ).json()
    url = "/api/v1/auth/signup/complete"
    assert_problem(http.post(url, json=_complete_body(ticket, auth_key="AAAA")), 422, "auth_key")
    assert_problem(
        http.post(url, json=_complete_body(ticket, sealed_by_password="not base64!")),
        422,
        "sealed_by_password",
    )
    # Parameters below the server's cost, absurdly above it, or not parameters at all.
    salt = bytes(16)
    weaker = b64(KdfParams(salt, Argon2Cost(opslimit=1, memlimit=4096)).to_bytes())
    assert_problem(
        http.post(url, json=_complete_body(ticket, kdf_params=weaker)), 422, "kdf_params"
    )
    absurd = b64(KdfParams(salt, Argon2Cost(opslimit=99, memlimit=8192)).to_bytes())
    assert_problem(
        http.post(url, json=_complete_body(ticket, kdf_params=absurd)), 422, "kdf_params"
    )
    broken = "AAAA" + ticket["kdf_params"][4:]
    assert_problem(
        http.post(url, json=_complete_body(ticket, recovery_kdf_params=broken)),
        422,
        "recovery_kdf_params",
    )
    assert_problem(
        http.post(url, json=_complete_body(ticket, display_name="   ")), 422, "display_name"
    )
    assert_problem(http.post(url, json={**_complete_body(ticket), "extra": 1}), 422, "extra")
    done = http.post(url, json=_complete_body(ticket))
    assert done.status_code == 201, done.text


def test_invalid_address_names_the_field(http: TestClient) -> None:
    for email in ("no-at-sign.example", "a@nodot", "@example.test"):
        assert_problem(http.post("/api/v1/auth/signup", json={"email": email}), 422, "email")


def test_client_reports_problems(http: TestClient, inbox: Inbox) -> None:
    client = new_client(http)
    with pytest.raises(ApiError) as caught:
        client.sign_up("bad-address", PASSWORD, "Ana", read_code=inbox.code)
    assert caught.value.status == 422
    assert caught.value.field == "email"
    assert caught.value.code == "invalid-input"
