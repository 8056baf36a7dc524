"""Sign-up, login, passwords, recovery, key reset and TOTP: the flows that open a session.

The password never leaves the process: it derives the authentication key and the KEK locally
(``colloque.crypto.login``), only the former is sent, and the latter unlocks the private keys.
Passwords are checked against the policy before any request (:class:`WeakPassword`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from uuid import UUID

from colloque.client.encoding import b64, unb64
from colloque.client.http import Json
from colloque.client.passwords import check_password
from colloque.client.session import NotLoggedIn, Session
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
from colloque.crypto.login import KdfParams
from colloque.crypto.statements import EndorsementKind, endorse_keys


class Accounts(Session):
    """The account flows of :class:`~colloque.client.ColloqueClient`."""

    # Sign-up and key reset: new keys made here -------------------------------------------------

    def sign_up(
        self,
        email: str,
        password: str,
        display_name: str,
        *,
        read_code: Callable[[str], str],
        first_name: str | None = None,
        last_name: str | None = None,
        birth_date: date | None = None,
    ) -> str:
        """Create an account; ``read_code(email)`` returns the code mailed to ``email``.

        The account comes with its holder's own patient record, ready to book for: its names are
        ``first_name`` and ``last_name`` (default: the display name's words), its birth date
        ``birth_date`` (without one, the record waits for :meth:`complete_own_record`).

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
                **{
                    name: value
                    for name, value in (
                        ("first_name", first_name),
                        ("last_name", last_name),
                        ("birth_date", None if birth_date is None else birth_date.isoformat()),
                    )
                    if value is not None
                },
            },
            auth=False,
        )
        return self._created(email, out, created)

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
        # Nothing of the old keys survives, so only the new signing key can vouch for the new
        # epoch: others use it once a person compared fingerprints (docs/crypto.md 5.12).
        new = created.keys
        endorsement = endorse_keys(
            encryption=new.encryption_binding(),
            signing=new.signing_binding(),
            kind=EndorsementKind.RESET,
            signer=new,
        )
        out = self._request(
            "POST",
            "/api/v1/auth/keys/reset/complete",
            json={
                "reset_token": ticket["reset_token"],
                "epoch": created.bundle.epoch,
                "endorsement": b64(endorsement.to_leaf()),
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

    # Login and passwords -----------------------------------------------------------------------

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
        sealed = unb64(out["keys"]["sealed_by_password"])
        account_id = UUID(out["account_id"])
        keys = unlock_with_kek(sealed, user_id=account_id, kek=login_keys.kek)
        self._opened(email, out, keys=keys, sealed_by_password=sealed)
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

    def log_out(self) -> None:
        self._request("POST", "/api/v1/auth/logout")
        self._token = None
        self._keys = None

    def log_out_others(self) -> int:
        """End every other session of the account (other devices, API clients, issued tokens);
        this one stays. Returns how many ended."""
        ended: int = self._request("POST", "/api/v1/auth/logout/others")["ended_sessions"]
        return ended

    # Recovery ----------------------------------------------------------------------------------

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
        keys = unlock_with_recovery_code(
            unb64(start["sealed_by_recovery"]),
            user_id=UUID(start["account_id"]),
            recovery_code=code,
            insecure_allow_weak_cost=self._insecure,
        )
        fields, sealed_by_password, new_code = self._resealed(keys, start, new_password)
        out = self._request(
            "POST",
            "/api/v1/auth/recovery/complete",
            json={"recovery_token": start["recovery_token"], **fields, "session": "token"},
            auth=False,
        )
        self._opened(email, out, keys=keys, sealed_by_password=sealed_by_password)
        return new_code.text

    def _resealed(
        self, keys: UserKeys, start: Json, new_password: str
    ) -> tuple[Json, bytes, RecoveryCode]:
        """The recovered ``keys`` sealed under ``new_password`` and a new recovery code, with the
        fresh parameters of the recovery ``start``: the request fields, the keys sealed by the
        password, and the new code."""
        new_params = unb64(start["kdf_params"])
        new_recovery_params = unb64(start["recovery_kdf_params"])
        login_keys = self._derive(new_password, new_params)
        sealed_by_recovery, new_code = new_recovery_envelope(
            keys,
            cost=KdfParams.from_bytes(new_recovery_params).cost,
            insecure_allow_weak_cost=self._insecure,
        )
        new_proof = self._derive(new_code.text, new_recovery_params)
        sealed_by_password = seal_for_kek(keys, login_keys.kek)
        return (
            {
                "new_auth_key": b64(login_keys.auth_key),
                "new_kdf_params": b64(new_params),
                "new_sealed_by_password": b64(sealed_by_password),
                "new_recovery_auth_key": b64(new_proof.auth_key),
                "new_recovery_kdf_params": b64(new_recovery_params),
                "new_sealed_by_recovery": b64(sealed_by_recovery),
            },
            sealed_by_password,
            new_code,
        )

    def recovery_code_status(self) -> Json:
        """``created_at`` (when the current recovery code was made) and ``used_at`` (when it last
        opened a recovery, or None), as ISO 8601 text."""
        status: Json = self._request("GET", "/api/v1/me/recovery-code")
        return status

    def renew_recovery_code(self) -> str:
        """Replace the recovery code (after :meth:`reauthenticate`): the unlocked keys sealed
        here under a new code, which is returned, to show once. The old code stops working."""
        keys = self.unlocked_keys
        params = unb64(self._request("POST", "/api/v1/auth/password/params")["kdf_params"])
        sealed, code = new_recovery_envelope(
            keys,
            cost=KdfParams.from_bytes(params).cost,
            insecure_allow_weak_cost=self._insecure,
        )
        self._request(
            "PUT",
            "/api/v1/me/recovery-code",
            json={
                "recovery_auth_key": b64(self._derive(code.text, params).auth_key),
                "recovery_kdf_params": b64(params),
                "sealed_by_recovery": b64(sealed),
            },
        )
        return code.text

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
