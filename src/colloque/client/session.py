"""One user's connection to Colloque: the HTTP client, the session token and the unlocked keys.

:class:`Session` is the base of :class:`~colloque.client.ColloqueClient`: it sends the API calls
(with the bearer token, problems raised as ``ApiError``) and holds what a login leaves on the
device. The flows that open a session are in ``accounts.py``.
"""

from __future__ import annotations

import os
from typing import Any, Self
from uuid import UUID

import httpx2

from colloque.client.encoding import unb64
from colloque.client.http import HttpClient, Json, raise_for_problem
from colloque.client.monitor import Alert
from colloque.client.state import FileState, MemoryState
from colloque.crypto.keys import NewKeyBundle, UserKeys
from colloque.crypto.login import LoginKeys, derive_login_keys
from colloque.crypto.transparency import fingerprint


class NotLoggedIn(Exception):
    """The call needs a session: log in (or sign up) first."""


class Session:
    """``Session("https://colloque.example")``; pass ``http`` to reuse an HTTP client (tests
    pass FastAPI's TestClient). ``insecure_allow_weak_cost`` is for tests only: it lets the
    client accept key-derivation parameters below the OWASP floor. ``state`` is where the client
    remembers what it verified (a file path, or a :class:`~colloque.client.state.MemoryState`);
    without it, it remembers only for this process."""

    def __init__(
        self,
        base_url: str = "",
        *,
        http: HttpClient | None = None,
        insecure_allow_weak_cost: bool = False,
        timeout: float = 30.0,
        state: str | os.PathLike[str] | MemoryState | None = None,
    ) -> None:
        self.state: MemoryState = (
            state
            if isinstance(state, MemoryState)
            else MemoryState()
            if state is None
            else FileState(state)
        )
        self._http: HttpClient = (
            http if http is not None else httpx2.Client(base_url=base_url, timeout=timeout)
        )
        self._insecure = insecure_allow_weak_cost
        self._token: str | None = None
        self._email: str | None = None
        self._account_id: UUID | None = None
        self._keys: UserKeys | None = None
        self._sealed_by_password: bytes | None = None
        #: What monitoring found in the log that this user did not make (client.monitor).
        self.alerts: list[Alert] = []

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    @property
    def token(self) -> str:
        if self._token is None:
            raise NotLoggedIn("log in first")
        return self._token

    @property
    def account_id(self) -> UUID:
        if self._account_id is None:
            raise NotLoggedIn("log in first")
        return self._account_id

    @property
    def unlocked_keys(self) -> UserKeys:
        """The user's private keys, unlocked on this device at login."""
        if self._keys is None:
            raise NotLoggedIn("log in first")
        return self._keys

    def _request(
        self, method: str, path: str, *, json: Json | None = None, auth: bool = True
    ) -> Any:
        headers = {"Authorization": f"Bearer {self.token}"} if auth else {}
        response = self._http.request(method, path, json=json, headers=headers)
        raise_for_problem(response)
        return response.json() if response.content else None

    def _derive(self, secret: str, params: bytes) -> LoginKeys:
        return derive_login_keys(secret, params, insecure_allow_weak_cost=self._insecure)

    def _prelogin(self, email: str) -> tuple[bytes, bytes]:
        answer = self._request("POST", "/api/v1/auth/prelogin", json={"email": email}, auth=False)
        return unb64(answer["kdf_params"]), unb64(answer["recovery_kdf_params"])

    def _opened(self, email: str, out: Json, *, keys: UserKeys, sealed_by_password: bytes) -> None:
        """Keep what the server's answer ``out`` opened: the account, the session, the keys."""
        self._email = email
        self._account_id = UUID(out["account_id"])
        self._token = out["session"]["token"]
        self._keys = keys
        self._sealed_by_password = sealed_by_password
        # This device holds these keys: it vouches for them when it reads its own chain, and
        # monitoring compares the log with what it remembers (docs/crypto.md 5.12).
        own = dict(self.state.get("own_keys", str(keys.user_id)) or {})
        own[str(keys.epoch)] = fingerprint([keys.encryption_binding(), keys.signing_binding()])
        self.state.put("own_keys", str(keys.user_id), own)
        self._after_opening()

    def _after_opening(self) -> None:
        """What a subclass does once a session is open (the client monitors its own keys)."""

    def _created(self, email: str, out: Json, created: NewKeyBundle) -> str:
        """Keep the session of a new key bundle; returns its recovery code, to show once."""
        self._opened(
            email, out, keys=created.keys, sealed_by_password=created.bundle.sealed_by_password
        )
        return created.recovery_code.text
