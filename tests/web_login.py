"""A person who signs in as a browser does: an account with a password (made in-process, the
demo's way, at the test cost), then prelogin and a cookie login over HTTP. The one cookie login of
the tests: the page tests run it through a TestClient (which keeps the cookies), the browser tests
through a real HTTP client against the live server, then hand the cookies to the browser context
(sessions live in the database, so they work there)."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any, Protocol
from uuid import UUID

import httpx2
from playwright.sync_api import BrowserContext
from sqlalchemy import select

from colloque.accounts.config import TEST_COST
from colloque.accounts.demo import do_create_demo_login
from colloque.accounts.sessions import CSRF_COOKIE, SESSION_COOKIE, SessionKind, open_session
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


def cookie_login(
    http: _Http, email: str, password: str = PASSWORD, *, totp: str | None = None
) -> Login:
    """Prelogin, the login keys derived at whatever cost the account has, a cookie login (with
    the second factor's code for an account that has TOTP on)."""
    params = http.post("/api/v1/auth/prelogin", json={"email": email}).json()["kdf_params"]
    raw = base64.urlsafe_b64decode(params + "=" * (-len(params) % 4))
    key = derive_login_keys(password, raw, insecure_allow_weak_cost=True).auth_key
    answer = http.post(
        "/api/v1/auth/login",
        json={
            "email": email,
            "auth_key": base64.urlsafe_b64encode(key).decode().rstrip("="),
            "session": "cookie",
            **({} if totp is None else {"totp": totp}),
        },
    )
    assert answer.status_code == 200, answer.text
    return Login(answer.cookies[SESSION_COOKIE], answer.cookies[CSRF_COOKIE])


def sign_in_browser(
    context: BrowserContext,
    url: str,
    email: str,
    password: str = PASSWORD,
    *,
    totp: str | None = None,
) -> None:
    """The session and CSRF cookies in the browser context, as after the log in page."""
    with httpx2.Client(base_url=url) as http:
        login = cookie_login(http, email, password, totp=totp)
    context.add_cookies(
        [{"name": name, "value": value, "url": url} for name, value in login.cookies.items()]
    )


def staff_login(
    db: Database, clock: SettableClock, account_id: UUID, *, mfa_verified: bool = True
) -> Login:
    """A practice member's cookie session with its second factor passed, as after the log in page
    and its TOTP step (tests/browser/test_unlock_totp.py drives that step itself). The factories'
    staff have no password: their sessions are opened in-process, like their bearer tokens."""
    with db.write() as session:
        opened = open_session(
            session,
            now=clock.now(),
            account_id=account_id,
            kind=SessionKind.COOKIE,
            mfa_verified=mfa_verified,
        )
    assert opened.csrf_token is not None
    return Login(opened.token, opened.csrf_token)


def staff_in_browser(
    context: BrowserContext, url: str, db: Database, clock: SettableClock, account_id: UUID
) -> None:
    """:func:`staff_login`'s cookies in a browser context."""
    login = staff_login(db, clock, account_id)
    context.add_cookies(
        [{"name": name, "value": value, "url": url} for name, value in login.cookies.items()]
    )


def own_patient_id(db: Database, account_id: UUID) -> UUID:
    with db.read() as session:
        return session.scalars(
            select(Patient.patient_id).where(
                Patient.holder_account_id == account_id, Patient.relationship == "self"
            )
        ).one()
