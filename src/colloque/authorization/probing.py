"""Probing is stopped: too many "not found" answers slow a principal down, then lock it out.

Every domain 404 (an object that does not exist *or is not yours*, which look the same) is a miss.
The miss is written in its own short transaction, after the request's own transaction has rolled
back, keyed by the account or, for anonymous requests, by a keyed hash of the client address
(never the address itself). From ``slow_after`` misses within ``window`` every further 404 is
delayed; at ``lock_after`` the principal is locked for ``lock_for``: each of its requests then
gets a 429 problem, checked early by :func:`check_not_locked`. Both events are recorded in
``probing_incidents`` (with the counts) and in the audit log (pointing at the incident).

Wiring: the HTTP layer calls :func:`note_principal` once the principal is known and
:func:`check_not_locked` before any work; ``api/problems.py`` calls :func:`note_miss` when it
renders a 404. Limits come from the ``probing_*`` settings (``COLLOQUE_PROBING_*`` variables,
:meth:`ProbingLimits.from_settings`); the address hash key from ``colloque.server_keys``.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import structlog
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from colloque.audit.services import AuditAction, record
from colloque.authorization.models import AccessMiss, ProbingIncident
from colloque.config import Settings
from colloque.errors import ColloqueError
from colloque.ids import new_id
from colloque.principal import ANONYMOUS, Principal
from colloque.server_keys import ServerKeys
from colloque.storage.engine import Database

ENV_PREFIX = "COLLOQUE_PROBING_"

log = structlog.get_logger("colloque.authorization")
_STATE_PRINCIPAL = "colloque_principal"


class ProbingLocked(ColloqueError):
    """Too many misses: every request of this principal is refused until the lock ends."""

    status = 429
    code = "too-many-misses"
    title = "Too many requests"

    def __init__(self, retry_after: int) -> None:
        super().__init__("too many requests for things that do not exist; try again later")
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class ProbingLimits:
    """When misses slow a principal down and when they lock it out."""

    slow_after: int = 10
    lock_after: int = 20
    window: timedelta = timedelta(minutes=10)
    lock_for: timedelta = timedelta(minutes=15)
    #: How long each 404 is held back once the principal is slowed down.
    delay_seconds: float = 1.0

    def __post_init__(self) -> None:
        if self.slow_after < 1:
            raise ValueError(f"{ENV_PREFIX}SLOW_AFTER must be at least 1")
        if self.lock_after < self.slow_after:
            raise ValueError(f"{ENV_PREFIX}LOCK_AFTER must not be below {ENV_PREFIX}SLOW_AFTER")
        if self.window <= timedelta(0):
            raise ValueError(f"{ENV_PREFIX}WINDOW_SECONDS must be positive")
        if self.lock_for <= timedelta(0):
            raise ValueError(f"{ENV_PREFIX}LOCK_SECONDS must be positive")
        if not 0 <= self.delay_seconds <= 60:
            raise ValueError(f"{ENV_PREFIX}DELAY_SECONDS must be 0 to 60")

    @classmethod
    def from_settings(cls, settings: Settings) -> ProbingLimits:
        """The ``probing_*`` settings (``COLLOQUE_PROBING_SLOW_AFTER``, ``_LOCK_AFTER``,
        ``_WINDOW_SECONDS``, ``_LOCK_SECONDS`` and ``_DELAY_SECONDS``)."""
        return cls(
            slow_after=settings.probing_slow_after,
            lock_after=settings.probing_lock_after,
            window=timedelta(seconds=settings.probing_window_seconds),
            lock_for=timedelta(seconds=settings.probing_lock_seconds),
            delay_seconds=settings.probing_delay_seconds,
        )


@dataclass(frozen=True, slots=True)
class Verdict:
    """What one more miss means for its principal."""

    misses: int
    slowed: bool
    locked: bool


@dataclass(frozen=True, slots=True)
class ProbingGuard:
    """The limits, the key for hashing client addresses, and how to wait (tests record it)."""

    limits: ProbingLimits
    client_key: bytes
    sleep: Callable[[float], Awaitable[None]] = field(default=asyncio.sleep)

    @classmethod
    def for_keys(cls, keys: ServerKeys, limits: ProbingLimits) -> ProbingGuard:
        return cls(limits=limits, client_key=keys.probing_client_hash)

    def key_for(self, request: Request, principal: Principal | None) -> str:
        """``account:<id>``, or ``client:<keyed hash>`` when nobody is signed in: an address
        space as small as IPv4 cannot be reversed from the hash without the server's secret."""
        if principal is not None and principal.account_id is not None:
            return f"account:{principal.account_id}"
        host = request.client.host if request.client is not None else "unknown"
        digest = hmac.new(self.client_key, host.encode(), hashlib.sha256).hexdigest()
        return f"client:{digest[:32]}"


def install(app: Starlette, settings: Settings) -> ProbingGuard:
    """Put the guard made from ``settings`` on ``app.state`` (where :func:`note_miss` and
    :func:`check_not_locked` find it)."""
    guard = ProbingGuard.for_keys(settings.server_keys, ProbingLimits.from_settings(settings))
    app.state.probing = guard
    return guard


def note_principal(request: Request, principal: Principal) -> None:
    """Remember who makes this request, so that a 404 counts against them."""
    setattr(request.state, _STATE_PRINCIPAL, principal)


def noted_principal(request: Request) -> Principal | None:
    principal: Principal | None = getattr(request.state, _STATE_PRINCIPAL, None)
    return principal


def _guard(request: Request) -> ProbingGuard | None:
    guard: ProbingGuard | None = getattr(request.app.state, "probing", None)
    return guard


def lock_ends(session: Session, key: str, now: datetime) -> datetime | None:
    """When the current lock of ``key`` ends, or None when it is not locked."""
    return session.scalar(
        select(func.max(ProbingIncident.locked_until)).where(
            ProbingIncident.principal_key == key,
            ProbingIncident.kind == "locked",
            ProbingIncident.locked_until > now,
        )
    )


def check_not_locked(
    session: Session, *, request: Request, principal: Principal, now: datetime
) -> None:
    """Raise :class:`ProbingLocked` (a 429 with ``Retry-After``) while the principal is locked.
    One indexed read; call it in the transaction that resolves the principal."""
    guard = _guard(request)
    if guard is None:
        return
    until = lock_ends(session, guard.key_for(request, principal), now)
    if until is not None:
        raise ProbingLocked(retry_after=max(1, math.ceil((until - now).total_seconds())))


def record_miss(
    session: Session, *, key: str, principal: Principal, now: datetime, limits: ProbingLimits
) -> Verdict:
    """Count one miss for ``key`` and slow down or lock it when a limit is reached."""
    since = now - limits.window
    session.execute(delete(AccessMiss).where(AccessMiss.at <= since))
    session.add(AccessMiss(miss_id=new_id(), principal_key=key, at=now))
    session.flush()
    misses = session.scalar(
        select(func.count())
        .select_from(AccessMiss)
        .where(AccessMiss.principal_key == key, AccessMiss.at > since)
    )
    assert misses is not None
    if misses >= limits.lock_after:
        if lock_ends(session, key, now) is None:
            _incident(
                session, key, principal, now, limits, misses, locked_until=now + limits.lock_for
            )
        return Verdict(misses=misses, slowed=True, locked=True)
    if misses >= limits.slow_after:
        recent = session.scalar(
            select(ProbingIncident.incident_id)
            .where(ProbingIncident.principal_key == key, ProbingIncident.at > since)
            .limit(1)
        )
        if recent is None:
            _incident(session, key, principal, now, limits, misses, locked_until=None)
        return Verdict(misses=misses, slowed=True, locked=False)
    return Verdict(misses=misses, slowed=False, locked=False)


def _incident(
    session: Session,
    key: str,
    principal: Principal,
    now: datetime,
    limits: ProbingLimits,
    misses: int,
    *,
    locked_until: datetime | None,
) -> None:
    incident = ProbingIncident(
        incident_id=new_id(),
        principal_key=key,
        account_id=principal.account_id,
        kind="slowed" if locked_until is None else "locked",
        at=now,
        misses=misses,
        window_seconds=math.ceil(limits.window.total_seconds()),
        locked_until=locked_until,
    )
    session.add(incident)
    record(
        session,
        at=now,
        action=AuditAction.PROBING_SLOWED if locked_until is None else AuditAction.PROBING_LOCKED,
        principal=principal,
        object_kind="probing_incident",
        object_id=incident.incident_id,
    )


def _record_in_own_transaction(
    database: Database, key: str, principal: Principal, now: datetime, limits: ProbingLimits
) -> Verdict:
    with database.write() as session:
        return record_miss(session, key=key, principal=principal, now=now, limits=limits)


async def note_miss(request: Request) -> Verdict | None:
    """Called when a 404 problem is rendered: count the miss, and hold the answer back when the
    principal is slowed down. The answer itself is unchanged, so it still reveals nothing."""
    guard = _guard(request)
    if guard is None:
        return None
    principal = noted_principal(request)
    key = guard.key_for(request, principal)
    try:
        verdict = await run_in_threadpool(
            _record_in_own_transaction,
            request.app.state.database,
            key,
            principal or ANONYMOUS,
            request.app.state.clock.now(),
            guard.limits,
        )
    except Exception as exc:
        # The 404 is still the right answer; losing one count must not turn it into a 500.
        log.error("probing_miss_not_recorded", error_type=type(exc).__name__)
        return None
    if verdict.slowed and guard.limits.delay_seconds > 0:
        await guard.sleep(guard.limits.delay_seconds)
    return verdict
