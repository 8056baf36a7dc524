"""Failed logins slow the attacker without locking out the owner: the owner's known devices keep
working, unknown devices are held per account and per network, the owner is mailed once a lock."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import func, select

from colloque.accounts import throttling
from colloque.accounts.config import AccountsConfig
from colloque.accounts.devices import DEVICE_COOKIE, DeviceClaim
from colloque.accounts.interfaces import Refusal, Throttled
from colloque.accounts.login import (
    check_proof,
    do_log_in,
    email_throttle_key,
    network_throttle_key,
    trusted_device,
)
from colloque.accounts.models import Throttle
from colloque.accounts.prelogin import CostMixCache, prelogin
from colloque.accounts.sessions import SessionKind
from colloque.audit.models import AuditEvent
from colloque.clock import SettableClock
from colloque.config import KdfCost, Settings
from colloque.crypto.login import derive_login_keys
from colloque.storage.engine import Database
from tests.functional.accounts.conftest import SECRET, login_body, register
from tests.smtp import Inbox

LOGIN = "/api/v1/auth/login"
CONFIG = AccountsConfig.from_settings(Settings(secret_key=SecretStr(SECRET), kdf_cost=KdfCost.TEST))


def _auth_key(db: Database, clock: SettableClock, email: str, password: str) -> bytes:
    with db.read() as session:
        params = prelogin(
            session, email=email, config=CONFIG, mix=CostMixCache(), now=clock.now()
        ).kdf_params
    return derive_login_keys(password, params, insecure_allow_weak_cost=True).auth_key


def _try(
    db: Database, clock: SettableClock, email: str, key: bytes, ip: str, device: DeviceClaim
) -> str:
    """One login attempt driven in-process, as the route does: ``ok``, ``wrong`` or ``held``."""
    try:
        with db.read() as session:
            subject = check_proof(
                session,
                now=clock.now(),
                email=email,
                proof=key,
                client_ip=ip,
                config=CONFIG,
                device=device,
            )
    except Refusal as refusal:
        with db.write() as session:
            refusal.record(session)
        return "wrong"
    except Throttled:
        return "held"
    with db.write() as session:
        do_log_in(
            session,
            now=clock.now(),
            subject=subject,
            auth_key=key,
            totp=None,
            recovery_code=None,
            kind=SessionKind.BEARER,
            client_ip=ip,
            config=CONFIG,
            device=device,
        )
    return "ok"


def test_a_thousand_wrong_passwords_from_rotating_addresses_do_not_stop_the_owner(
    sqlite_db: Database, clock: SettableClock
) -> None:
    db = sqlite_db  # the service in-process: the same on both databases
    owner = register(db, clock, "ana@example.test")
    right = _auth_key(db, clock, owner.email, owner.password)
    wrong = _auth_key(db, clock, owner.email, "not the password at all")
    # The owner signs in once from their laptop: it becomes a known device.
    with db.write() as session:
        first = do_log_in(
            session,
            now=clock.now(),
            subject=check_proof(
                session,
                now=clock.now(),
                email=owner.email,
                proof=right,
                client_ip="192.0.2.10",
                config=CONFIG,
            ),
            auth_key=right,
            totp=None,
            recovery_code=None,
            kind=SessionKind.BEARER,
            client_ip="192.0.2.10",
            config=CONFIG,
            device=DeviceClaim(token=None, user_agent="Firefox"),
        )
    laptop = DeviceClaim(token=first.device_token, user_agent="Firefox")

    answers: dict[str, int] = {}
    for n in range(1000):
        # Every attempt from a new address: new IPv6 networks and new IPv4 addresses.
        ip = f"2001:db8:{n:x}::{n % 7 + 1}" if n % 2 else f"203.0.{n // 256}.{n % 256}"
        outcome = _try(db, clock, owner.email, wrong, ip, DeviceClaim(None, "curl"))
        answers[outcome] = answers.get(outcome, 0) + 1
        clock.advance(timedelta(seconds=30))
    # Few guesses were even checked: the account locked, for longer and longer.
    assert answers["wrong"] <= 60, answers
    with db.read() as session:
        assert throttling.is_locked(
            session, email_throttle_key(CONFIG, owner.email), now=clock.now()
        )
        locks = session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "accounts:account:lock")
        )
    assert locks is not None
    assert 1 <= locks <= 6

    # From an unknown device, even the right password waits; from the laptop it works at once,
    # from any address.
    assert _try(db, clock, owner.email, right, "198.51.100.1", DeviceClaim(None, "Edge")) == "held"
    assert _try(db, clock, owner.email, right, "2001:db8:ffff::1", laptop) == "ok"
    # The laptop's success leaves the attacker's lock in place.
    assert _try(db, clock, owner.email, right, "198.51.100.1", DeviceClaim(None, "Edge")) == "held"


def test_rotating_ipv6_addresses_in_one_network_is_one_network(
    sqlite_db: Database, clock: SettableClock
) -> None:
    db = sqlite_db  # the service in-process: the same on both databases
    key = _auth_key(db, clock, "nobody@example.test", "whatever")
    for n in range(throttling.LOGIN_FAILURES_PER_IP.count):
        # A different unknown address each time (so no account lock): only the /64 counts.
        email = f"user{n}@example.test"
        assert _try(db, clock, email, key, f"2001:db8:5::{n + 1:x}", DeviceClaim(None, None)) == (
            "wrong"
        )
    held = _try(db, clock, "late@example.test", key, "2001:db8:5::ffff", DeviceClaim(None, None))
    assert held == "held"
    # Another network is not held, and the one held waits the window, not forever.
    assert _try(db, clock, "late@example.test", key, "2001:db8:6::1", DeviceClaim(None, None)) == (
        "wrong"
    )
    assert network_throttle_key(CONFIG, "2001:db8:5::1") == network_throttle_key(
        CONFIG, "2001:db8:5:0:ffff::1"
    )
    clock.advance(throttling.LOGIN_FAILURES_PER_IP.window)
    assert _try(db, clock, "late@example.test", key, "2001:db8:5::1", DeviceClaim(None, None)) == (
        "wrong"
    )


def test_over_http_the_device_cookie_lets_the_owner_in_and_the_owner_is_mailed_once(
    db: Database, clock: SettableClock, app: FastAPI, http: TestClient, inbox: Inbox
) -> None:
    owner = register(db, clock, "ana@example.test")
    assert http.post(LOGIN, json=login_body(http, owner.email)).status_code == 200
    assert DEVICE_COOKIE in http.cookies
    with TestClient(app, base_url="https://testserver") as attacker:
        bad = login_body(attacker, owner.email, "a wrong password, guessed")
        for _ in range(12):
            attacker.post(LOGIN, json=bad)
        refused = attacker.post(LOGIN, json=login_body(attacker, owner.email))
        assert refused.status_code == 429
    assert http.post(LOGIN, json=login_body(http, owner.email)).status_code == 200
    assert len(inbox.to(owner.email)) == 1
    assert "bloquée" in inbox.last_text(owner.email)


@pytest.mark.parametrize(
    ("address", "network"),
    [
        ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
        ("::ffff:192.0.2.9", "192.0.2.9/32"),
        ("192.0.2.9", "192.0.2.9/32"),
        ("testclient", "testclient"),
    ],
)
def test_login_networks(address: str, network: str) -> None:
    assert throttling.login_network(address) == network


def test_a_known_device_has_its_own_lock_and_then_counts_as_unknown(
    sqlite_db: Database, clock: SettableClock
) -> None:
    db = sqlite_db
    owner = register(db, clock, "ana@example.test")
    right = _auth_key(db, clock, owner.email, owner.password)
    wrong = _auth_key(db, clock, owner.email, "a wrong one")
    # The device's token, as its cookie would carry it, is only known through a login's result.
    with db.write() as session:
        result = do_log_in(
            session,
            now=clock.now(),
            subject=check_proof(
                session,
                now=clock.now(),
                email=owner.email,
                proof=right,
                client_ip="192.0.2.1",
                config=CONFIG,
            ),
            auth_key=right,
            totp=None,
            recovery_code=None,
            kind=SessionKind.BEARER,
            client_ip="192.0.2.1",
            config=CONFIG,
            device=DeviceClaim(None, "Firefox"),
        )
    laptop = DeviceClaim(result.device_token, "Firefox")
    # A device token the account does not know is an unknown device.
    with db.read() as session:
        assert trusted_device(session, now=clock.now(), account_id=owner.account_id, device=laptop)
        forged = DeviceClaim("x" * 32, "Firefox")
        assert not trusted_device(
            session, now=clock.now(), account_id=owner.account_id, device=forged
        )
    for _ in range(throttling.LOGIN_FAILURES_PER_DEVICE.count):
        assert _try(db, clock, owner.email, wrong, "192.0.2.1", laptop) == "wrong"
    with db.read() as session:
        # Its failures held the device, not the account.
        assert not throttling.is_locked(
            session, email_throttle_key(CONFIG, owner.email), now=clock.now()
        )
    # Locked, the laptop signs in like an unknown device: counted against the account again.
    assert _try(db, clock, owner.email, wrong, "192.0.2.1", laptop) == "wrong"
    with db.read() as session:
        assert session.get(Throttle, email_throttle_key(CONFIG, owner.email)) is not None
    assert _try(db, clock, owner.email, right, "192.0.2.1", laptop) == "ok"
