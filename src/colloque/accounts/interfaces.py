"""Contracts of the accounts domain: its errors and the refusals whose trace outlives a rollback."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from colloque.errors import ColloqueError, Unauthenticated
from colloque.notifications.interfaces import MailMessage


class LoginFailed(Unauthenticated):
    """Wrong email, password, recovery code or second factor. Unknown accounts get the very same."""

    code = "login-failed"
    title = "Login failed"


class MfaRequired(ColloqueError):
    """The password was right; the account has TOTP, so a code (or a recovery code) is needed."""

    status = 401
    code = "mfa-required"
    title = "Second factor required"


class ReauthenticationRequired(ColloqueError):
    """A sensitive change needs a fresh proof of the password (and TOTP) in this session."""

    status = 403
    code = "reauthentication-required"
    title = "Re-authentication required"


class MassChangeUnconfirmed(ColloqueError):
    """More cancellations or moves by one credential than a person makes by hand in the window:
    the member confirms with a fresh re-authentication (``POST /api/v1/auth/reauth``), then
    retries. ``count`` is how many it made in the window."""

    status = 403
    code = "mass-change-unconfirmed"
    title = "Confirm these changes"

    def __init__(self, *, count: int, window_seconds: int) -> None:
        super().__init__(
            f"{count} appointments cancelled or moved in {window_seconds // 60} minutes: confirm "
            "your password (and your code) to go on: POST /api/v1/auth/reauth"
        )
        self.count = count
        self.window_seconds = window_seconds


class Throttled(ColloqueError):
    """Too many attempts from this address or for this account; ``retry_after`` in seconds."""

    status = 429
    code = "too-many-requests"
    title = "Too many attempts"

    def __init__(self, detail: str, *, retry_after: int) -> None:
        super().__init__(detail)
        self.retry_after = max(1, retry_after)


#: Runs in a transaction of its own; may return a notice to mail to the account's owner.
Recorder = Callable[[Session], MailMessage | None]


class Refusal(Exception):
    """A refusal whose trace must be kept (a failure counter, an audit event).

    The transaction that found it rolls back (nothing half-written); the caller then runs
    ``record`` in a new transaction and raises ``error``. See ``colloque.accounts.views_support``.
    """

    def __init__(self, error: ColloqueError, record: Recorder) -> None:
        super().__init__(error.detail)
        self.error = error
        self.record = record
