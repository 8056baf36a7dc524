"""A sign-in from a device the account has not used before is told to its owner, once."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from colloque.accounts.devices import DEVICE_COOKIE, device_label
from colloque.accounts.models import KnownDevice
from colloque.accounts.sessions import hash_token
from colloque.clock import SettableClock
from colloque.storage.engine import Database
from tests.functional.accounts.conftest import PASSWORD, login_body, register
from tests.smtp import Inbox

LOGIN = "/api/v1/auth/login"
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
SAFARI_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)


def _log_in(http: TestClient, email: str, user_agent: str) -> None:
    answer = http.post(LOGIN, json=login_body(http, email), headers={"User-Agent": user_agent})
    assert answer.status_code == 200, answer.text


def test_a_new_device_is_told_once_and_the_first_one_is_not(
    db: Database, clock: SettableClock, app: FastAPI, http: TestClient, inbox: Inbox
) -> None:
    person = register(db, clock, "ana@example.test")
    _log_in(http, person.email, FIREFOX)
    _log_in(http, person.email, FIREFOX)
    assert inbox.messages == []  # the first device, then the same one again
    with TestClient(app, base_url="https://testserver") as phone:
        _log_in(phone, person.email, SAFARI_IPHONE)
        _log_in(phone, person.email, SAFARI_IPHONE)
        cookie = phone.cookies[DEVICE_COOKIE]
    assert len(inbox.messages) == 1
    notice = inbox.last_text(person.email)
    assert "Nouvelle connexion" in inbox.to(person.email)[0]["Subject"]
    assert "Mobile Safari / iOS" in notice
    assert PASSWORD not in notice
    assert cookie not in notice
    with db.read() as session:
        devices = session.scalars(
            select(KnownDevice).where(KnownDevice.account_id == person.account_id)
        ).all()
    assert sorted(d.label for d in devices) == ["Firefox / Linux", "Mobile Safari / iOS"]
    # Only the token's hash is kept.
    assert hash_token(cookie) in {d.device_hash for d in devices}


def test_the_device_cookie_goes_only_to_the_sign_in_routes_and_outlives_logout(
    db: Database, clock: SettableClock, http: TestClient, inbox: Inbox
) -> None:
    person = register(db, clock, "ana@example.test")
    answer = http.post(LOGIN, json=login_body(http, person.email))
    header = answer.headers["set-cookie"].lower()
    device = next(part for part in header.split(", ") if part.startswith(DEVICE_COOKIE))
    for attribute in ("httponly", "secure", "samesite=strict", "path=/api/v1/auth", "max-age="):
        assert attribute in device
    http.post("/api/v1/auth/logout")
    assert DEVICE_COOKIE in http.cookies
    _log_in(http, person.email, FIREFOX)
    assert inbox.messages == []


def test_a_cookie_from_another_account_on_a_shared_computer_is_kept_for_both(
    db: Database, clock: SettableClock, app: FastAPI, http: TestClient, inbox: Inbox
) -> None:
    ana = register(db, clock, "ana@example.test")
    ben = register(db, clock, "ben@example.test")
    with TestClient(app, base_url="https://testserver") as elsewhere:
        _log_in(elsewhere, ana.email, SAFARI_IPHONE)  # Ana's first device: recorded, untold
    _log_in(http, ana.email, FIREFOX)  # a second device for Ana: told
    _log_in(http, ben.email, FIREFOX)  # Ben's first device: the same cookie
    shared = http.cookies[DEVICE_COOKIE]
    _log_in(http, ana.email, FIREFOX)
    _log_in(http, ben.email, FIREFOX)
    assert http.cookies[DEVICE_COOKIE] == shared
    assert [rcpt for rcpt, _ in inbox.messages] == [[ana.email]]


def test_a_forged_or_odd_cookie_is_replaced_by_a_token_of_ours(
    db: Database, clock: SettableClock, http: TestClient
) -> None:
    person = register(db, clock, "ana@example.test")
    body = login_body(http, person.email)
    answer = http.post(LOGIN, json=body, headers={"Cookie": f"{DEVICE_COOKIE}={'x' * 500}"})
    assert answer.status_code == 200
    given = answer.headers["set-cookie"].split(f"{DEVICE_COOKIE}=", 1)[1].split(";", 1)[0]
    assert len(given) == 32
    with db.read() as session:
        stored = session.scalars(select(KnownDevice.device_hash)).all()
    assert stored == [hash_token(given)]


def test_labels_are_coarse() -> None:
    assert device_label(None) == "unknown"
    assert device_label("") == "unknown"
    assert device_label("python-httpx/0.28.1") == "unknown"
    assert device_label(FIREFOX) == "Firefox / Linux"
    assert device_label("Mozilla/5.0 (Windows NT 10.0; Win64; x64)") == "Windows"
    assert len(device_label("x" * 10_000)) <= 64
