"""Periodic clean-up of what expires: sessions, mailed codes, recovery grants, idle counters
(login throttles and probing counters).

For the background worker (``colloque.worker``); one call, one transaction, idempotent.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.orm import Session

from colloque.accounts import throttling
from colloque.accounts.models import EmailChallenge, RecoveryGrant
from colloque.accounts.sessions import purge_expired
from colloque.authorization import probing


def purge_expired_account_data(session: Session, *, now: datetime) -> None:
    purge_expired(session, now=now)
    session.execute(delete(EmailChallenge).where(EmailChallenge.expires_at <= now))
    session.execute(delete(RecoveryGrant).where(RecoveryGrant.expires_at <= now))
    throttling.purge_stale(session, now=now)
    probing.purge_idle(session, now=now)
