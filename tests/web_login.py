"""A patient who signs in as a browser does: an account with a password (made in-process, the
demo's way, at the test cost), then prelogin and a cookie login over HTTP. Shared by the page
tests (TestClient) and the browser tests (a TestClient of the app the live server runs: sessions
live in the database, so its cookies work there)."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any, Protocol
from uuid import UUID

from sqlalchemy import select

from colloque.accounts.config import TEST_COST
from colloque.accounts.demo import do_create_demo_login
from colloque.accounts.sessions import CSRF_COOKIE, SESSION_COOKIE
from colloque.clock import SettableClock
from colloque.config import Settings
from colloque.crypto.login import derive_login_keys
from colloque.keydirectory.config import LogKey
from colloque.patients.models import Patient
from colloque.storage.engine import Database
from tests.factories import Person

PASSWORD = "vR7#kq2!Lm9@zP-long enough"


class _Http(Protocol):
    def post(self, url: str, *, json: Any) -> Any: ...


@dataclass(frozen=True)
class Login:
    person: Person
    session_cookie: str
    csrf_token: str

    @property
    def cookies(self) -> dict[str, str]:
        return {SESSION_COOKIE: self.session_cookie, CSRF_COOKIE: self.csrf_token}


def make_patient_account(db: Database, clock: SettableClock, email: str) -> Person:
    with db.write() as session:
        account, token = do_create_demo_login(
            session,
            now=clock.now(),
            email=email,
            display_name="Léa Martin",
            password=PASSWORD,
            kdf_cost=TEST_COST,
            insecure_allow_weak_cost=True,
            log=LogKey.from_settings(Settings()),
        )
        return Person(account_id=account.account_id, token=token)


def cookie_login(http: _Http, person: Person, email: str) -> Login:
    params = http.post("/api/v1/auth/prelogin", json={"email": email}).json()["kdf_params"]
    raw = base64.urlsafe_b64decode(params + "=" * (-len(params) % 4))
    key = derive_login_keys(PASSWORD, raw, insecure_allow_weak_cost=True).auth_key
    answer = http.post(
        "/api/v1/auth/login",
        json={
            "email": email,
            "auth_key": base64.urlsafe_b64encode(key).decode().rstrip("="),
            "session": "cookie",
        },
    )
    assert answer.status_code == 200, answer.text
    return Login(person, answer.cookies[SESSION_COOKIE], answer.cookies[CSRF_COOKIE])


def own_patient_id(db: Database, account_id: UUID) -> UUID:
    with db.read() as session:
        return session.scalars(
            select(Patient.patient_id).where(
                Patient.holder_account_id == account_id, Patient.relationship == "self"
            )
        ).one()
