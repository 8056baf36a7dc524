"""Mass changes need a confirmation: past ``confirm_changes_after`` cancellations or moves by one
credential within ``confirm_changes_window`` (20 in 10 minutes by default), a member is asked to
re-authenticate (password and second factor, ``POST /api/v1/auth/reauth``), with the count shown.

A stolen desk token cancelling a practice's agenda by script then stops at the threshold, while
a secretary clearing a sick colleague's day confirms once and carries on for as many again. The
count is kept per credential (the session or token, not the account) in the ``throttles`` table,
in the change's own transaction: a refused change rolls its count back, and the row's lock
serialises one credential's changes so that concurrent ones cannot pass the threshold.
"""

from __future__ import annotations

import math
from datetime import datetime

from sqlalchemy.orm import Session

from colloque.accounts import throttling
from colloque.accounts.config import AccountsConfig
from colloque.accounts.interfaces import MassChangeUnconfirmed
from colloque.accounts.sessions import REAUTH_WINDOW, ResolvedSession


def confirmed_since(
    reauth_at: datetime | None, *, window_started_at: datetime, now: datetime
) -> bool:
    """Whether a re-authentication confirms the changes of the window that started then: made
    after it started (so that one confirms one window only), and still fresh."""
    return (
        reauth_at is not None and reauth_at > window_started_at and now - reauth_at <= REAUTH_WINDOW
    )


def count_change(
    session: Session, *, now: datetime, resolved: ResolvedSession, config: AccountsConfig
) -> None:
    """Count one cancellation or move by this credential; raise :class:`MassChangeUnconfirmed`
    past the threshold unless the member re-authenticated since the window started (which starts
    a new one). Patients are not counted (their own few appointments), nor in-process work."""
    principal = resolved.principal
    if not principal.memberships or principal.credential_id is None:
        return
    row = throttling.row_for_update(session, f"changes:{principal.credential_id}", now)
    if row.window_started_at + config.confirm_changes_window <= now:
        row.count = 0
        row.window_started_at = now
    row.count += 1
    if row.count <= config.confirm_changes_after:
        return
    if confirmed_since(resolved.reauth_at, window_started_at=row.window_started_at, now=now):
        row.count = 1
        row.window_started_at = now
        return
    raise MassChangeUnconfirmed(
        count=row.count - 1,
        window_seconds=math.ceil(config.confirm_changes_window.total_seconds()),
    )
