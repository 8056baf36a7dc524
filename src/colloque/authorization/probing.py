"""Probing is stopped: too many "not found" answers slow a caller down, then lock it out.

A miss is a 404 for a domain object looked up by its id (an object that does not exist *or is not
yours*, which look the same); unknown routes and routes the caller's role cannot use are not
misses (``NotFound.counts_as_miss``). Each miss counts against two keys (:func:`counters_for`):

- the credential that made it (``credential:<id>``, the session or token, not the account), or
  for an anonymous request the client address (``client:<keyed hash>``);
- the address's network (``net:<keyed hash>``: the /64 of an IPv6 address, which one subscriber
  rotates through at will, the /24 of an IPv4 one), with ``network_factor`` times the limits,
  since a network is many people (an office, a carrier-grade NAT).

So a lock stops the stolen token and the address it is used from; its owner signs in again (with
MFA for members) and carries on with a new credential. Addresses are never stored in clear.

Each key has one row in ``probing_counters``, counted by one atomic upsert (``INSERT ... ON
CONFLICT DO UPDATE ... RETURNING``), so that concurrent misses cannot pass a limit: from
``slow_after`` misses within ``window`` every further 404 is delayed; the ``lock_after``-th locks
the key for ``lock_for``; a miss past it (concurrent requests that passed the lock check) gets the
429 instead of its 404. Slow-downs and locks are recorded in ``probing_incidents`` and in the
audit log; a lock of a credential tells its owner and, for members, the practice admins (the
guard's ``on_lock``, which the accounts domain provides).

Wiring: the HTTP layer calls :func:`note_principal` once the principal is known and
:func:`check_not_locked` before any work, anonymous requests included; ``api/problems.py`` calls
:func:`note_miss` when it renders a counted 404 and sends :data:`REMAINING_HEADER`. Limits come
from the ``probing_*`` settings (:meth:`ProbingLimits.from_settings`).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import ipaddress
import math
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import structlog
from sqlalchemy import case, delete, func, literal, or_, select, update
from sqlalchemy.orm import Session
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from colloque.audit.services import AuditAction, record
from colloque.authorization.models import ProbingCounter, ProbingIncident
from colloque.config import Settings
from colloque.errors import ColloqueError
from colloque.ids import new_id
from colloque.principal import ANONYMOUS, Principal
from colloque.server_keys import ServerKeys
from colloque.storage.engine import Database
from colloque.storage.upsert import insert_on_conflict

ENV_PREFIX = "COLLOQUE_PROBING_"
#: Sent with every counted 404: how many more misses before answers are slowed down, so that an
#: honest client can stop (in the spirit of the IETF draft's ``RateLimit-Remaining``).
REMAINING_HEADER = "Misses-Remaining"
#: How much of an IPv4 address names its network (a /24: one office, one small provider's block);
#: an IPv6 subscriber gets a /64 and rotates addresses in it at will.
IPV4_NETWORK_BITS = 24
IPV6_NETWORK_BITS = 64

log = structlog.get_logger("colloque.authorization")
_STATE_PRINCIPAL = "colloque_principal"


class ProbingLocked(ColloqueError):
    """Too many misses: every request of this credential or address is refused until the lock ends."""

    status = 429
    code = "too-many-misses"
    title = "Too many requests"

    def __init__(self, retry_after: int) -> None:
        super().__init__("too many requests for things that do not exist; try again later")
        self.retry_after = max(1, retry_after)


@dataclass(frozen=True, slots=True)
class ProbingLimits:
    """When misses slow a key down and when they lock it out."""

    slow_after: int = 10
    lock_after: int = 20
    window: timedelta = timedelta(minutes=10)
    lock_for: timedelta = timedelta(minutes=15)
    #: How long each 404 is held back once the key is slowed down.
    delay_seconds: float = 1.0
    #: A network's limits are this many times a credential's or an address's.
    network_factor: int = 5

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
        if self.network_factor < 1:
            raise ValueError(f"{ENV_PREFIX}NETWORK_FACTOR must be at least 1")

    @classmethod
    def from_settings(cls, settings: Settings) -> ProbingLimits:
        """The ``probing_*`` settings (``COLLOQUE_PROBING_SLOW_AFTER``, ``_LOCK_AFTER``,
        ``_WINDOW_SECONDS``, ``_LOCK_SECONDS``, ``_DELAY_SECONDS`` and ``_NETWORK_FACTOR``)."""
        return cls(
            slow_after=settings.probing_slow_after,
            lock_after=settings.probing_lock_after,
            window=timedelta(seconds=settings.probing_window_seconds),
            lock_for=timedelta(seconds=settings.probing_lock_seconds),
            delay_seconds=settings.probing_delay_seconds,
            network_factor=settings.probing_network_factor,
        )

    def scaled(self, factor: int) -> tuple[int, int]:
        """``(slow_after, lock_after)`` for a key counted with ``factor``."""
        return self.slow_after * factor, self.lock_after * factor


@dataclass(frozen=True, slots=True)
class Counter:
    """One key a miss counts against, and the factor of its limits."""

    key: str
    factor: int = 1


@dataclass(frozen=True, slots=True)
class Judgement:
    """What one more miss of one key means (pure: :func:`judge`)."""

    slowed: bool
    #: This miss is the one that slows the key down (once per window): an incident.
    starts_slowing: bool
    #: This miss reaches the lock and the key is not locked yet: lock it now.
    locks: bool
    #: Past the limit: the answer is the 429, not the 404.
    refused: bool
    remaining: int


def judge(
    misses: int, locked_until: datetime | None, *, now: datetime, slow_after: int, lock_after: int
) -> Judgement:
    """The rules, apart from the counting: ``misses`` is this key's count including this miss."""
    locked = locked_until is not None and locked_until > now
    return Judgement(
        slowed=misses >= slow_after,
        starts_slowing=misses == slow_after and misses < lock_after,
        locks=misses >= lock_after and not locked,
        refused=locked or misses > lock_after,
        remaining=max(0, slow_after - misses),
    )


@dataclass(frozen=True, slots=True)
class Verdict:
    """What one more miss means for its request: the worst of its keys."""

    misses: int
    slowed: bool
    locked: bool
    #: Answer 429 (with ``retry_after``) instead of the 404.
    refused: bool = False
    remaining: int = 0
    retry_after: int = 0


#: Tells the owner (and, for a member, the practice admins) that a credential was locked: called
#: with the session, the principal, now and the lock's end, in the transaction that locked it.
OnLock = Callable[[Session, Principal, datetime, datetime], None]


def address_network(host: str, *, ipv4_bits: int = IPV4_NETWORK_BITS) -> str:
    """The network an address belongs to: its /64 for IPv6, its /``ipv4_bits`` for IPv4 (an
    IPv4-mapped IPv6 address counts as IPv4); anything else (a test client's name) as is."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    bits = IPV6_NETWORK_BITS if address.version == 6 else ipv4_bits
    return str(ipaddress.ip_network((address, bits), strict=False))


@dataclass(frozen=True, slots=True)
class ProbingGuard:
    """The limits, the key for hashing client addresses, how to wait (tests record it), and who
    is told of a credential's lock."""

    limits: ProbingLimits
    client_key: bytes
    sleep: Callable[[float], Awaitable[None]] = field(default=asyncio.sleep)
    on_lock: OnLock | None = None

    @classmethod
    def for_keys(
        cls, keys: ServerKeys, limits: ProbingLimits, on_lock: OnLock | None = None
    ) -> ProbingGuard:
        return cls(limits=limits, client_key=keys.probing_client_hash, on_lock=on_lock)

    def _hash(self, value: str) -> str:
        return hmac.new(self.client_key, value.encode(), hashlib.sha256).hexdigest()[:32]

    def counters_for(self, request: Request, principal: Principal | None) -> tuple[Counter, ...]:
        """The credential (the account in-process, the keyed hash of the address when nobody is
        signed in), then the address's network. An address space as small as IPv4 cannot be
        reversed from the hash without the server's secret."""
        host = request.client.host if request.client is not None else "unknown"
        if principal is not None and principal.credential_id is not None:
            first = f"credential:{principal.credential_id}"
        elif principal is not None and principal.account_id is not None:
            first = f"account:{principal.account_id}"
        else:
            first = f"client:{self._hash(host)}"
        network = Counter(
            f"net:{self._hash('net:' + address_network(host))}", self.limits.network_factor
        )
        return (Counter(first), network)


def install(app: Starlette, settings: Settings, *, on_lock: OnLock | None = None) -> ProbingGuard:
    """Put the guard made from ``settings`` on ``app.state`` (where :func:`note_miss` and
    :func:`check_not_locked` find it)."""
    guard = ProbingGuard.for_keys(
        settings.server_keys, ProbingLimits.from_settings(settings), on_lock
    )
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


def lock_ends(session: Session, keys: Sequence[str], now: datetime) -> datetime | None:
    """When the last current lock of ``keys`` ends, or None when none is locked."""
    return session.scalar(
        select(func.max(ProbingCounter.locked_until)).where(
            ProbingCounter.key.in_(keys), ProbingCounter.locked_until > now
        )
    )


def _retry_after(until: datetime, now: datetime) -> int:
    return max(1, math.ceil((until - now).total_seconds()))


def check_not_locked(
    session: Session, *, request: Request, principal: Principal, now: datetime
) -> None:
    """Raise :class:`ProbingLocked` (a 429 with ``Retry-After``) while the credential, the
    address or its network is locked. One indexed read; call it in the transaction that resolves
    the principal (or in one of its own for anonymous requests)."""
    guard = _guard(request)
    if guard is None:
        return
    keys = [counter.key for counter in guard.counters_for(request, principal)]
    until = lock_ends(session, keys, now)
    if until is not None:
        raise ProbingLocked(retry_after=_retry_after(until, now))


def _count(
    session: Session, key: str, now: datetime, window: timedelta
) -> tuple[int, datetime | None]:
    """One more miss for ``key``, in one statement: a new window when the last one is over."""
    over = ProbingCounter.window_started_at <= now - window
    statement = (
        insert_on_conflict(session, ProbingCounter)
        .values(key=key, window_started_at=now, misses=1)
        .on_conflict_do_update(
            index_elements=["key"],
            set_={
                "misses": case((over, 1), else_=ProbingCounter.misses + 1),
                "window_started_at": case(
                    (over, literal(now, ProbingCounter.window_started_at.type)),
                    else_=ProbingCounter.window_started_at,
                ),
            },
        )
        .returning(ProbingCounter.misses, ProbingCounter.locked_until)
    )
    misses, locked_until = session.execute(statement).one()
    return misses, locked_until


def _lock(session: Session, key: str, until: datetime) -> None:
    session.execute(
        update(ProbingCounter).where(ProbingCounter.key == key).values(locked_until=until)
    )


def record_miss(
    session: Session,
    *,
    counters: Sequence[Counter],
    principal: Principal,
    now: datetime,
    limits: ProbingLimits,
    on_lock: OnLock | None = None,
) -> Verdict:
    """Count one miss against each of ``counters``; slow down or lock the keys that reach a limit."""
    verdict = Verdict(misses=0, slowed=False, locked=False, remaining=limits.slow_after)
    for counter in counters:
        slow_after, lock_after = limits.scaled(counter.factor)
        misses, locked_until = _count(session, counter.key, now, limits.window)
        judgement = judge(
            misses, locked_until, now=now, slow_after=slow_after, lock_after=lock_after
        )
        if judgement.starts_slowing:
            _incident(session, counter.key, principal, now, limits, misses, locked_until=None)
        if judgement.locks:
            # Exactly once: the upsert holds the row's lock until the commit (SQLite serialises
            # writes), so a concurrent miss counts after this lock and sees it.
            locked_until = now + limits.lock_for
            _lock(session, counter.key, locked_until)
            _incident(
                session, counter.key, principal, now, limits, misses, locked_until=locked_until
            )
            if on_lock is not None and counter.key.startswith(("credential:", "account:")):
                on_lock(session, principal, now, locked_until)
        refused = judgement.refused
        verdict = Verdict(
            misses=verdict.misses or misses,
            slowed=verdict.slowed or judgement.slowed,
            locked=verdict.locked or judgement.locks or refused,
            refused=verdict.refused or refused,
            remaining=min(verdict.remaining, judgement.remaining),
            retry_after=max(
                verdict.retry_after,
                _retry_after(locked_until, now) if refused and locked_until is not None else 0,
            ),
        )
    return verdict


def purge_idle(session: Session, *, now: datetime, idle: timedelta = timedelta(days=1)) -> None:
    """Drop counters idle for ``idle`` (longer than any sensible window) and no longer locked,
    for the periodic upkeep (``accounts.upkeep``)."""
    session.execute(
        delete(ProbingCounter).where(
            ProbingCounter.window_started_at <= now - idle,
            or_(ProbingCounter.locked_until.is_(None), ProbingCounter.locked_until <= now),
        )
    )


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
    database: Database,
    counters: Sequence[Counter],
    principal: Principal,
    now: datetime,
    guard: ProbingGuard,
) -> Verdict:
    with database.write() as session:
        return record_miss(
            session,
            counters=counters,
            principal=principal,
            now=now,
            limits=guard.limits,
            on_lock=guard.on_lock,
        )


async def note_miss(request: Request) -> Verdict | None:
    """Called when a counted 404 problem is rendered: count the miss, and hold the answer back
    when the caller is slowed down. The answer itself is unchanged, so it still reveals nothing;
    past the lock (``refused``) the caller renders the 429 instead."""
    guard = _guard(request)
    if guard is None:
        return None
    principal = noted_principal(request)
    counters = guard.counters_for(request, principal)
    try:
        verdict = await run_in_threadpool(
            _record_in_own_transaction,
            request.app.state.database,
            counters,
            principal or ANONYMOUS,
            request.app.state.clock.now(),
            guard,
        )
    except Exception as exc:
        # The 404 is still the right answer; losing one count must not turn it into a 500.
        log.error("probing_miss_not_recorded", error_type=type(exc).__name__)
        return None
    if verdict.slowed and not verdict.refused and guard.limits.delay_seconds > 0:
        await guard.sleep(guard.limits.delay_seconds)
    return verdict
