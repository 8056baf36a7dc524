"""Counters that slow guessing down: failed logins per address and per IP, codes mailed per address.

Two kinds of limit share one table (``throttles``), one row per key:

- a *rate*: at most ``count`` events per ``window``; past it the key is refused until the window ends;
- a *lock*: ``count`` failures (within ``window``) lock the key for ``lock``, doubling at each lock in
  a row; a success clears it.

Keys name an email or a client address by a keyed hash (``AccountsConfig.email_key`` and
``client_key``), never in clear.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from colloque.accounts.config import AccountsConfig
from colloque.accounts.interfaces import Throttled
from colloque.accounts.models import Throttle
from colloque.authorization.probing import address_network
from colloque.storage.upsert import insert_on_conflict


@dataclass(frozen=True)
class Limit:
    count: int
    window: timedelta
    #: None for a rate; the first lock's duration for a lock.
    lock: timedelta | None = None
    max_lock: timedelta = timedelta(hours=24)

    def lock_for(self, locks_before: int) -> timedelta:
        assert self.lock is not None
        doubled: timedelta = self.lock * (1 << min(locks_before, 16))
        return min(doubled, self.max_lock)


#: Failed logins (or re-authentications) of one address from devices it does not know: 10 lock
#: it for 15 minutes, then 30... Its owner's known devices are not held by it (``login``).
LOGIN_FAILURES_PER_EMAIL = Limit(10, timedelta(hours=24), lock=timedelta(minutes=15))
#: Failed logins from one network (:func:`login_network`) on devices their accounts do not know,
#: whatever the account. A rate, not a lock: the people behind one NAT wait at most the window,
#: and those on their own known devices not at all.
LOGIN_FAILURES_PER_IP = Limit(30, timedelta(minutes=15))
#: Failed logins from one known device of an account (a stolen laptop, a shared computer): a lock
#: of that device only, which then signs in like an unknown one.
LOGIN_FAILURES_PER_DEVICE = Limit(10, timedelta(hours=24), lock=timedelta(minutes=15))
#: Codes mailed to one address, and sign-ups started from one IP address.
CODES_PER_EMAIL = Limit(5, timedelta(hours=1))
CODES_PER_IP = Limit(20, timedelta(hours=1))


def ip_key(config: AccountsConfig, kind: str, client_ip: str) -> str:
    """``<kind>:ip:<keyed hash of the address>``: the address itself is never stored."""
    return f"{kind}:ip:{config.client_key(client_ip)}"


def login_network(client_ip: str) -> str:
    """What failed logins are counted by: the /64 of an IPv6 address (one subscriber, who may
    rotate through all of it), an IPv4 address itself (a /24 would hold many unrelated people,
    and an attacker's IPv4 addresses are few and dear; the per-account lock bounds them)."""
    return address_network(client_ip, ipv4_bits=32)


def is_locked(session: Session, key: str, *, now: datetime) -> bool:
    locked_until = session.scalar(select(Throttle.locked_until).where(Throttle.key == key))
    return locked_until is not None and locked_until > now


def _seconds(delta: timedelta) -> int:
    return math.ceil(delta.total_seconds())


def check(session: Session, key: str, *, now: datetime) -> None:
    """Raise Throttled while ``key`` is locked or over its rate."""
    locked_until = session.scalar(select(Throttle.locked_until).where(Throttle.key == key))
    if locked_until is not None and locked_until > now:
        raise Throttled(
            "too many attempts; try again later", retry_after=_seconds(locked_until - now)
        )


def row_for_update(session: Session, key: str, now: datetime) -> Throttle:
    """The row of ``key``, created if missing and locked for this transaction."""
    session.execute(
        insert_on_conflict(session, Throttle)
        .values(key=key, count=0, window_started_at=now, lock_count=0)
        .on_conflict_do_nothing(index_elements=["key"])
    )
    return session.scalars(
        select(Throttle)
        .where(Throttle.key == key)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()


def count(session: Session, key: str, *, now: datetime, limit: Limit) -> datetime | None:
    """Count one event for ``key``. When this event locked it (a lock, not a rate): until when."""
    row = row_for_update(session, key, now)
    if row.window_started_at + limit.window <= now:
        row.count = 0
        row.window_started_at = now
    row.count += 1
    if row.count < limit.count:
        return None
    if limit.lock is None:
        row.locked_until = row.window_started_at + limit.window
        return None
    locked_until = now + limit.lock_for(row.lock_count)
    row.locked_until = locked_until
    row.lock_count += 1
    row.count = 0
    row.window_started_at = now
    return locked_until


def clear(session: Session, key: str) -> None:
    session.execute(delete(Throttle).where(Throttle.key == key))


def purge_stale(session: Session, *, now: datetime) -> None:
    """Drop rows idle for two days and no longer locked (for the periodic upkeep)."""
    cutoff = now - timedelta(days=2)
    session.execute(
        delete(Throttle).where(
            Throttle.window_started_at < cutoff,
            (Throttle.locked_until.is_(None)) | (Throttle.locked_until < cutoff),
        )
    )
