"""An HTTP client of Colloque that does the client's half of the cryptography.

The password never leaves this object: it derives the authentication key and the KEK locally
(``colloque.crypto.login``), sends only the former, and unlocks the private keys with the latter.
Passwords are checked against the policy before any request (:class:`WeakPassword`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, cast
from uuid import UUID

import httpx2

from colloque.client.appointments import (
    open_booking_reason,
    sealed_booking_fields,
    sealed_part,
)
from colloque.client.directory import KeyDirectory
from colloque.client.encoding import b64, unb64
from colloque.client.passwords import check_password
from colloque.client.practice_keys import PracticeKeys
from colloque.crypto.items import VisitReason, read_item_header
from colloque.crypto.keys import (
    FIRST_EPOCH,
    NewKeyBundle,
    RecoveryCode,
    UserKeys,
    create_key_bundle,
    new_recovery_envelope,
    rewrap_for_new_kek,
    seal_for_kek,
    unlock_with_kek,
    unlock_with_recovery_code,
)
from colloque.crypto.login import KdfParams, LoginKeys, derive_login_keys
from colloque.crypto.transparency import KeyBinding, KeyPurpose

if TYPE_CHECKING:
    from colloque.client.records import SealedRecords

Json = dict[str, Any]


class HttpResponse(Protocol):
    @property
    def status_code(self) -> int: ...

    @property
    def content(self) -> bytes: ...

    def json(self) -> Any: ...


class HttpClient(Protocol):
    """What the client needs of an HTTP client: ``httpx2.Client`` (or Starlette's TestClient)."""

    def request(
        self,
        method: str,
        url: str,
        *,
        json: Any = None,
        params: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> HttpResponse: ...

    def close(self) -> None: ...


class ApiError(Exception):
    """A problem answer (RFC 9457) from the server."""

    def __init__(self, status: int, problem: Json) -> None:
        super().__init__(f"{status}: {problem.get('detail', 'error')}")
        self.status = status
        self.problem = problem
        self.code = str(problem.get("type", "")).rsplit("/", 1)[-1]
        self.field: str | None = problem.get("field")


class NotLoggedIn(Exception):
    """The call needs a session: log in (or sign up) first."""


class NotPinned(Exception):
    """The call needs the key directory's origin and public key: pin them first."""


class ColloqueClient:
    """``ColloqueClient("https://colloque.example")``; pass ``http`` to reuse an httpx2 client
    (tests pass FastAPI's TestClient). ``insecure_allow_weak_cost`` is for tests only: it lets
    the client accept key-derivation parameters below the OWASP floor."""

    def __init__(
        self,
        base_url: str = "",
        *,
        http: HttpClient | None = None,
        insecure_allow_weak_cost: bool = False,
        timeout: float = 30.0,
    ) -> None:
        self._http: HttpClient = (
            http if http is not None else httpx2.Client(base_url=base_url, timeout=timeout)
        )
        self._insecure = insecure_allow_weak_cost
        self._token: str | None = None
        self._email: str | None = None
        self._account_id: UUID | None = None
        self._keys: UserKeys | None = None
        self._sealed_by_password: bytes | None = None

    def __enter__(self) -> ColloqueClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    # State -------------------------------------------------------------------------------------

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
        if response.status_code >= 400:
            raise ApiError(response.status_code, response.json())
        return response.json() if response.content else None

    def _derive(self, secret: str, params: bytes) -> LoginKeys:
        return derive_login_keys(secret, params, insecure_allow_weak_cost=self._insecure)

    def _prelogin(self, email: str) -> tuple[bytes, bytes]:
        answer = self._request("POST", "/api/v1/auth/prelogin", json={"email": email}, auth=False)
        return unb64(answer["kdf_params"]), unb64(answer["recovery_kdf_params"])

    def _opened(self, email: str, account_id: str, session: Json) -> None:
        self._email = email
        self._account_id = UUID(account_id)
        self._token = session["token"]

    # Sign-up, login, passwords -----------------------------------------------------------------

    def sign_up(
        self, email: str, password: str, display_name: str, *, read_code: Callable[[str], str]
    ) -> str:
        """Create an account; ``read_code(email)`` returns the code mailed to ``email``.

        Returns the recovery code, to show the user once: it is the only way back in (and to the
        encrypted data) after a forgotten password.
        """
        check_password(password, user_inputs=[email, display_name])
        started = self._request("POST", "/api/v1/auth/signup", json={"email": email}, auth=False)
        ticket = self._request(
            "POST",
            "/api/v1/auth/signup/verify",
            json={"signup_id": started["signup_id"], "code": read_code(email)},
            auth=False,
        )
        created, fields = self._new_credentials(ticket, password, epoch=FIRST_EPOCH)
        out = self._request(
            "POST",
            "/api/v1/auth/signup/complete",
            json={
                "signup_token": ticket["signup_token"],
                "display_name": display_name,
                **fields,
            },
            auth=False,
        )
        return self._created(email, out, created)

    def _new_credentials(
        self, ticket: Json, password: str, *, epoch: int
    ) -> tuple[NewKeyBundle, Json]:
        """New key pairs for the account and epoch of ``ticket``, sealed under ``password`` and a
        new recovery code, with the fresh parameters the server handed out: the request fields."""
        params = unb64(ticket["kdf_params"])
        recovery_params = unb64(ticket["recovery_kdf_params"])
        login_keys = self._derive(password, params)
        created = create_key_bundle(
            UUID(ticket["account_id"]),
            login_keys.kek,
            epoch=epoch,
            recovery_cost=KdfParams.from_bytes(recovery_params).cost,
            insecure_allow_weak_cost=self._insecure,
        )
        recovery_keys = self._derive(created.recovery_code.text, recovery_params)
        bundle = created.bundle
        return created, {
            "auth_key": b64(login_keys.auth_key),
            "kdf_params": b64(params),
            "recovery_auth_key": b64(recovery_keys.auth_key),
            "recovery_kdf_params": b64(recovery_params),
            "encryption_public": b64(bundle.encryption_public),
            "signing_public": b64(bundle.signing_public),
            "sealed_by_password": b64(bundle.sealed_by_password),
            "sealed_by_recovery": b64(bundle.sealed_by_recovery),
            "session": "token",
        }

    def _created(self, email: str, out: Json, created: NewKeyBundle) -> str:
        self._opened(email, out["account_id"], out["session"])
        self._keys = created.keys
        self._sealed_by_password = created.bundle.sealed_by_password
        return created.recovery_code.text

    def log_in(
        self,
        email: str,
        password: str,
        *,
        totp: str | None = None,
        recovery_code: str | None = None,
    ) -> Json:
        """Log in and unlock the private keys; returns the server's answer (without secrets)."""
        params, _ = self._prelogin(email)
        login_keys = self._derive(password, params)
        out = self._request(
            "POST",
            "/api/v1/auth/login",
            json={
                "email": email,
                "auth_key": b64(login_keys.auth_key),
                "totp": totp,
                "recovery_code": recovery_code,
                "session": "token",
            },
            auth=False,
        )
        self._opened(email, out["account_id"], out["session"])
        sealed = unb64(out["keys"]["sealed_by_password"])
        self._keys = unlock_with_kek(sealed, user_id=self.account_id, kek=login_keys.kek)
        self._sealed_by_password = sealed
        return {"account_id": out["account_id"], "mfa": out["mfa"]}

    def reauthenticate(
        self, password: str, *, totp: str | None = None, recovery_code: str | None = None
    ) -> datetime:
        """Confirm the password (and the code) for five minutes of sensitive changes."""
        if self._email is None:
            raise NotLoggedIn("log in first")
        params, _ = self._prelogin(self._email)
        out = self._request(
            "POST",
            "/api/v1/auth/reauth",
            json={
                "auth_key": b64(self._derive(password, params).auth_key),
                "totp": totp,
                "recovery_code": recovery_code,
            },
        )
        return datetime.fromisoformat(out["valid_until"])

    def change_password(self, old_password: str, new_password: str) -> None:
        """New keys from the new password, the private keys re-sealed here; every other session
        of the account ends."""
        if self._email is None or self._sealed_by_password is None:
            raise NotLoggedIn("log in first")
        check_password(new_password, user_inputs=[self._email])
        params, _ = self._prelogin(self._email)
        old_keys = self._derive(old_password, params)
        new_params = unb64(self._request("POST", "/api/v1/auth/password/params")["kdf_params"])
        new_keys = self._derive(new_password, new_params)
        # Also proves the old password locally before anything is sent.
        sealed = rewrap_for_new_kek(
            self._sealed_by_password,
            user_id=self.account_id,
            old_kek=old_keys.kek,
            new_kek=new_keys.kek,
        )
        out = self._request(
            "POST",
            "/api/v1/auth/password",
            json={
                "old_auth_key": b64(old_keys.auth_key),
                "new_auth_key": b64(new_keys.auth_key),
                "new_kdf_params": b64(new_params),
                "new_sealed_by_password": b64(sealed),
            },
        )
        self._token = out["session"]["token"]
        self._sealed_by_password = sealed

    def recover(
        self,
        email: str,
        recovery_code: str,
        new_password: str,
        *,
        totp: str | None = None,
        mfa_recovery_code: str | None = None,
    ) -> str:
        """After a forgotten password: unlock the keys with the recovery code, set a new password.
        Returns the new recovery code (the old one is spent), to show once."""
        check_password(new_password, user_inputs=[email])
        _, recovery_params = self._prelogin(email)
        code = RecoveryCode.parse(recovery_code)
        proof = self._derive(code.text, recovery_params)
        start = self._request(
            "POST",
            "/api/v1/auth/recovery",
            json={
                "email": email,
                "recovery_auth_key": b64(proof.auth_key),
                "totp": totp,
                "recovery_code": mfa_recovery_code,
            },
            auth=False,
        )
        account_id = UUID(start["account_id"])
        keys = unlock_with_recovery_code(
            unb64(start["sealed_by_recovery"]),
            user_id=account_id,
            recovery_code=code,
            insecure_allow_weak_cost=self._insecure,
        )
        new_params = unb64(start["kdf_params"])
        new_recovery_params = unb64(start["recovery_kdf_params"])
        login_keys = self._derive(new_password, new_params)
        sealed_by_password = seal_for_kek(keys, login_keys.kek)
        sealed_by_recovery, new_code = new_recovery_envelope(
            keys,
            cost=KdfParams.from_bytes(new_recovery_params).cost,
            insecure_allow_weak_cost=self._insecure,
        )
        new_proof = self._derive(new_code.text, new_recovery_params)
        out = self._request(
            "POST",
            "/api/v1/auth/recovery/complete",
            json={
                "recovery_token": start["recovery_token"],
                "new_auth_key": b64(login_keys.auth_key),
                "new_kdf_params": b64(new_params),
                "new_sealed_by_password": b64(sealed_by_password),
                "new_recovery_auth_key": b64(new_proof.auth_key),
                "new_recovery_kdf_params": b64(new_recovery_params),
                "new_sealed_by_recovery": b64(sealed_by_recovery),
                "session": "token",
            },
            auth=False,
        )
        self._opened(email, out["account_id"], out["session"])
        self._keys = keys
        self._sealed_by_password = sealed_by_password
        return new_code.text

    def reset_keys(
        self,
        email: str,
        new_password: str,
        read_code: Callable[[str], str],
        totp: str | None = None,
        *,
        mfa_recovery_code: str | None = None,
    ) -> str:
        """When both the password and the recovery code are lost: new keys, made here, replace the
        old ones after a code mailed to ``email`` (``read_code(email)`` returns it) and, if the
        account has TOTP, ``totp`` or ``mfa_recovery_code``. Returns the new recovery code, to
        show once. What was sealed for the old keys stays unreadable until a practice re-shares
        it."""
        check_password(new_password, user_inputs=[email])
        started = self._request(
            "POST", "/api/v1/auth/keys/reset", json={"email": email}, auth=False
        )
        ticket = self._request(
            "POST",
            "/api/v1/auth/keys/reset/verify",
            json={
                "reset_id": started["reset_id"],
                "code": read_code(email),
                "totp": totp,
                "recovery_code": mfa_recovery_code,
            },
            auth=False,
        )
        created, fields = self._new_credentials(ticket, new_password, epoch=int(ticket["epoch"]))
        out = self._request(
            "POST",
            "/api/v1/auth/keys/reset/complete",
            json={"reset_token": ticket["reset_token"], "epoch": created.bundle.epoch, **fields},
            auth=False,
        )
        return self._created(email, out, created)

    def log_out(self) -> None:
        self._request("POST", "/api/v1/auth/logout")
        self._token = None
        self._keys = None

    # MFA ---------------------------------------------------------------------------------------

    def begin_totp(self) -> str:
        """Start TOTP set-up (after :meth:`reauthenticate`); returns the secret for the app."""
        secret: str = self._request("POST", "/api/v1/me/mfa/totp")["secret"]
        return secret

    def confirm_totp(self, code: str) -> list[str]:
        """Turn TOTP on; returns the ten recovery codes, to show once."""
        out = self._request("POST", "/api/v1/me/mfa/totp/confirm", json={"code": code})
        codes: list[str] = out["recovery_codes"]
        return codes

    # A few API calls ---------------------------------------------------------------------------

    def me(self) -> Json:
        out: Json = self._request("GET", "/api/v1/me")
        return out

    def search(self, **params: str) -> Json:
        response = self._http.request("GET", "/api/v1/search", params=params)
        if response.status_code >= 400:
            raise ApiError(response.status_code, response.json())
        out: Json = response.json()
        return out

    def book(
        self,
        *,
        practice_id: UUID,
        practitioner_id: UUID,
        patient_id: UUID,
        starts_at: datetime,
        visit_type_id: UUID,
        duration_minutes: int,
        reason: str = "",
        reminders_wanted: bool = True,
    ) -> Json:
        """Book online for a patient this account holds. The visit type and the reason are sealed
        here for this account and for the practice's current key, proven in the key directory;
        the server receives the time and the duration."""
        keys = self.unlocked_keys
        body: Json = {
            "practice_id": str(practice_id),
            "practitioner_id": str(practitioner_id),
            "patient_id": str(patient_id),
            "starts_at": starts_at.isoformat(),
            "duration_minutes": duration_minutes,
            "reminders_wanted": reminders_wanted,
            **sealed_booking_fields(
                author=keys,
                visit_type_id=visit_type_id,
                reason=reason,
                patient_key=keys.encryption_binding(),
                practice_key=self._practice_key_if_any(practice_id),
            ),
        }
        out: Json = self._request("POST", "/api/v1/appointments", json=body)
        return out

    def _practice_key_if_any(self, practice_id: UUID) -> KeyBinding | None:
        """The practice's proven key; None when the practice has not made its key group yet."""
        try:
            return self.key_directory.practice_key(practice_id)
        except ApiError as error:
            if error.status == 404:
                return None
            raise

    def read_reason(self, appointment: Json) -> VisitReason:
        """Open an appointment's sealed reason and visit type: with this account's keys when it
        holds the patient, else with the practice's group key of the wrap's epoch. The author's
        signing key comes from the verified key directory."""
        keys = self.unlocked_keys
        sealed = sealed_part(appointment)
        author_id = read_item_header(unb64(sealed["envelope"])).author_id
        author = (
            keys.signing_binding()
            if author_id == keys.user_id
            else self.key_directory.user_keys(author_id).bindings[KeyPurpose.SIGNING]
        )
        practice_id = UUID(appointment["practice_id"])
        if any(wrap["recipient_kind"] == "user" for wrap in sealed["wraps"]):
            return open_booking_reason(appointment, holder=keys, author=author)
        group = self.practice_keys.open_group_key(practice_id)
        holders = {group.epoch: group, **self.practice_keys.older_group_keys(practice_id)}
        epoch = max(wrap["epoch"] for wrap in sealed["wraps"])
        if epoch not in holders:
            raise LookupError("no group key of this wrap's epoch")
        return open_booking_reason(appointment, holder=holders[epoch], author=author)

    def my_appointments(self) -> list[Json]:
        out: list[Json] = self._request("GET", "/api/v1/me/appointments")
        return out

    # Key directory and practice keys -----------------------------------------------------------

    _directory: KeyDirectory | None = None
    _practice_keys: PracticeKeys | None = None

    def _get(self, path: str) -> Any:
        return self._request("GET", path)

    def pin_key_directory(self, *, origin: str, log_public_key: bytes) -> KeyDirectory:
        """Trust this log only: its origin and key come from configuration, not the server."""
        self._directory = KeyDirectory(self._get, origin=origin, log_public_key=log_public_key)
        self._practice_keys = None
        return self._directory

    @property
    def key_directory(self) -> KeyDirectory:
        if self._directory is None:
            raise NotPinned("pin the key directory first")
        return self._directory

    @property
    def practice_keys(self) -> PracticeKeys:
        """Practice key groups as this user, remembering the last epoch seen of each group."""
        if self._practice_keys is None:
            self._practice_keys = PracticeKeys(
                lambda method, path, body: self._request(method, path, json=body),
                directory=self.key_directory,
                me=self.unlocked_keys,
            )
        return self._practice_keys

    # Sealed records

    @property
    def records(self) -> SealedRecords:
        """Notes, messages, documents and key re-wrapping, as the signed-in user (records.py).
        Documents stream through the HTTP client itself: an ``httpx2.Client`` or a TestClient."""
        from colloque.client.records import SealedRecords, StreamingHttp  # records needs ApiError

        raw = cast("StreamingHttp", self._http)
        return SealedRecords(self._request, self.unlocked_keys, http=raw, token=self.token)
