"""Accounts against the real app: a real SMTP server on loopback, both databases, the test cost."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import pyotp
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import SecretStr

from colloque.accounts.config import TEST_COST
from colloque.accounts.demo import do_create_demo_login
from colloque.api.app import create_app
from colloque.client import ColloqueClient
from colloque.clock import SettableClock
from colloque.config import KdfCost, MailBackend, Settings
from colloque.crypto.login import derive_login_keys
from colloque.keydirectory.config import LogKey
from colloque.storage.engine import Database
from tests.smtp import Inbox, running_inbox

PASSWORD = "vR7#kq2!Lm9@zP-long enough"
OTHER_PASSWORD = "another Str0ng passphrase!"
SECRET = "a-test-secret-key-of-at-least-32-characters"
#: The key directory's log key of apps made with ``make_settings``.
TEST_LOG = LogKey.from_settings(Settings(secret_key=SecretStr(SECRET)))


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    with running_inbox() as inbox:
        yield inbox, inbox.port


@pytest.fixture
def inbox(smtp: tuple[Inbox, int]) -> Inbox:
    return smtp[0]


def make_settings(port: int, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "run_refresher": False,
        "secret_key": SecretStr(SECRET),
        "mail_backend": MailBackend.SMTP,
        "smtp_host": "127.0.0.1",
        "smtp_port": port,
        "kdf_cost": KdfCost.TEST,
        "cookie_secure": True,
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture
def settings(smtp: tuple[Inbox, int]) -> Settings:
    return make_settings(smtp[1])


@pytest.fixture
def app(db: Database, clock: SettableClock, settings: Settings) -> FastAPI:
    return create_app(settings, database=db, clock=clock)


@pytest.fixture
def http(app: FastAPI) -> Iterator[TestClient]:
    # https, so that the Secure cookies are sent back.
    with TestClient(app, base_url="https://testserver") as client:
        yield client


def new_client(http: TestClient) -> ColloqueClient:
    return ColloqueClient(http=http, insecure_allow_weak_cost=True)


@pytest.fixture
def client(http: TestClient) -> ColloqueClient:
    return new_client(http)


def sign_up(client: ColloqueClient, inbox: Inbox, email: str, password: str = PASSWORD) -> str:
    """A real sign-up through the API; returns the recovery code."""
    return client.sign_up(email, password, "Ana Martin", read_code=inbox.code)


@dataclass
class Registered:
    account_id: UUID
    email: str
    password: str
    token: str  # an issued token


def register(
    db: Database, clock: SettableClock, email: str, password: str = PASSWORD
) -> Registered:
    """An account with credentials, made in-process (the demo's way) at the test cost."""
    with db.write() as session:
        account, token = do_create_demo_login(
            session,
            now=clock.now(),
            email=email,
            display_name="Test Person",
            password=password,
            kdf_cost=TEST_COST,
            insecure_allow_weak_cost=True,
            log=TEST_LOG,
        )
        return Registered(account.account_id, email, password, token)


def totp_now(secret: str, clock: SettableClock, *, steps: int = 0) -> str:
    step = int(clock.now().timestamp()) // 30 + steps
    return pyotp.TOTP(secret).generate_otp(step)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def auth_key(http: TestClient, email: str, password: str = PASSWORD) -> str:
    """What a client sends for ``password``: the authentication key, base64url."""
    params = http.post("/api/v1/auth/prelogin", json={"email": email}).json()["kdf_params"]
    raw = base64.urlsafe_b64decode(params + "=" * (-len(params) % 4))
    key = derive_login_keys(password, raw, insecure_allow_weak_cost=True).auth_key
    return base64.urlsafe_b64encode(key).decode().rstrip("=")


def login_body(
    http: TestClient, email: str, password: str = PASSWORD, **extra: Any
) -> dict[str, Any]:
    return {"email": email, "auth_key": auth_key(http, email, password), **extra}
