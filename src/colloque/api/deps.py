"""Dependencies that route signatures read as types."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import BackgroundTasks, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from colloque.accounts.config import AccountsConfig
from colloque.accounts.mailing import MailQueue
from colloque.accounts.prelogin import CostMixCache
from colloque.accounts.sessions import (
    CSRF_HEADER,
    SESSION_COOKIE,
    ResolvedSession,
    check_csrf,
    hash_token,
    resolve_session,
    touch_session,
)
from colloque.authorization import probing
from colloque.clock import Clock
from colloque.config import Settings
from colloque.containment.interfaces import CredentialSuspended
from colloque.containment.services import suspension_of
from colloque.delivery.outbox import OutboxDelivery
from colloque.errors import Unauthenticated
from colloque.keydirectory.config import LogKey
from colloque.keydirectory.interfaces import LogSigner
from colloque.keydirectory.witnesses import Witnessing
from colloque.principal import ANONYMOUS, Principal, credential_id
from colloque.storage.engine import Database

_bearer = HTTPBearer(
    auto_error=False, description="An access token: `Authorization: Bearer clq_...`"
)
_cookie = APIKeyCookie(
    name=SESSION_COOKIE,
    auto_error=False,
    description=f"A browser session; unsafe methods also need the `{CSRF_HEADER}` header.",
)


# Dependencies that only read the app's state are async: FastAPI runs a sync one in the thread
# pool, a round trip per dependency per request (14 % of a worker's CPU on the week of slots).
# Those that wait on the database (the session's resolution) stay sync, off the event loop.


async def _database(request: Request) -> Database:
    database: Database = request.app.state.database
    return database


async def _clock(request: Request) -> Clock:
    clock: Clock = request.app.state.clock
    return clock


async def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


DB = Annotated[Database, Depends(_database)]
ClockDep = Annotated[Clock, Depends(_clock)]
SettingsDep = Annotated[Settings, Depends(_settings)]


async def _accounts_config(request: Request, settings: SettingsDep) -> AccountsConfig:
    config: AccountsConfig | None = getattr(request.app.state, "accounts_config", None)
    if config is None:
        config = AccountsConfig.from_settings(settings)
        request.app.state.accounts_config = config
    return config


async def _cost_mix(request: Request) -> CostMixCache:
    """The app's cache of the real accounts' KDF costs (``accounts.prelogin``), made once."""
    cache: CostMixCache | None = getattr(request.app.state, "cost_mix", None)
    if cache is None:
        cache = CostMixCache()
        request.app.state.cost_mix = cache
    return cache


def _log_signer(request: Request, settings: SettingsDep) -> LogSigner:
    """``app.state.log_signer`` if set, else the key derived from the settings (made once)."""
    signer: LogSigner | None = getattr(request.app.state, "log_signer", None)
    if signer is None:
        signer = LogKey.from_settings(settings)
        request.app.state.log_signer = signer
    return signer


async def _outbox_delivery(request: Request) -> OutboxDelivery:
    """The outbox delivery ``create_app`` made (its channels from the settings)."""
    delivery: OutboxDelivery = request.app.state.outbox_delivery
    return delivery


async def _mail_queue(
    request: Request,
    background: BackgroundTasks,
    settings: SettingsDep,
    clock: ClockDep,
    delivery: Annotated[OutboxDelivery, Depends(_outbox_delivery)],
) -> MailQueue:
    queue = MailQueue(
        key=settings.server_keys.account_mail_seal,
        clock=clock,
        background=background,
        send_now=delivery.deliver_account_mail_quietly,
        inbox_url=f"{settings.public_url}/me/notifications",
    )
    request.state.mail_queue = queue  # so that error responses send it too
    return queue


async def _client_ip(request: Request) -> str:
    """The peer address from the ASGI scope. Behind a reverse proxy, run ``colloque serve`` with
    ``--forwarded-allow-ips`` set to the proxy's address so that the scope carries the client's
    (docs/accounts.md); a header is never trusted here."""
    return request.client.host if request.client is not None else "unknown"


async def _witnessing(request: Request) -> Witnessing | None:
    """The key directory's witnesses, when the settings name some (``create_app`` sets it)."""
    witnessing: Witnessing | None = getattr(request.app.state, "witnessing", None)
    return witnessing


AccountsConfigDep = Annotated[AccountsConfig, Depends(_accounts_config)]
CostMixDep = Annotated[CostMixCache, Depends(_cost_mix)]
#: The key directory's log: its origin, its public key and the signer of its checkpoints.
LogDep = Annotated[LogSigner, Depends(_log_signer)]
WitnessingDep = Annotated[Witnessing | None, Depends(_witnessing)]
Mail = Annotated[MailQueue, Depends(_mail_queue)]
ClientIp = Annotated[str, Depends(_client_ip)]


def _session(
    request: Request,
    database: DB,
    clock: ClockDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    cookie: Annotated[str | None, Depends(_cookie)],
) -> ResolvedSession | None:
    """The session behind the request, if any.

    A bearer token wins over a cookie and must be valid. A cookie that is no longer valid counts as
    no session (public pages keep working); with a valid one, unsafe methods need the CSRF header.
    Activity is recorded at most once a minute, in a transaction of its own.
    """
    now = clock.now()
    with database.read() as session:
        resolved = _resolve(
            session,
            request,
            now,
            bearer=None if credentials is None else credentials.credentials,
            cookie=cookie,
        )
    if resolved is not None and resolved.needs_touch:
        with database.write() as session:
            touch_session(session, now=now, token_hash=resolved.token_hash)
    return resolved


def _resolve(
    session: Session, request: Request, now: datetime, *, bearer: str | None, cookie: str | None
) -> ResolvedSession | None:
    """The request's session resolved in ``session``, or None for an anonymous one; raises as
    the request must be refused (invalid or suspended token, probing lock, CSRF)."""
    if bearer is not None:
        try:
            resolved = resolve_session(session, now=now, token=bearer)
        except Unauthenticated:
            _raise_if_suspended(session, bearer)
            raise
        _guard_principal(session, request, resolved, now)
        return resolved
    if cookie is None:
        probing.check_not_locked(session, request=request, principal=ANONYMOUS, now=now)
        return None
    try:
        try:
            resolved = resolve_session(session, now=now, token=cookie)
        except Unauthenticated:
            _raise_if_suspended(session, cookie)
            raise
        _guard_principal(session, request, resolved, now)
    except CredentialSuspended:
        # Public pages keep working; what needs a session says why there is none.
        request.state.colloque_suspended = True
        return None
    except Unauthenticated:
        probing.check_not_locked(session, request=request, principal=ANONYMOUS, now=now)
        return None
    check_csrf(resolved, method=request.method, header=request.headers.get(CSRF_HEADER))
    return resolved


def _raise_if_suspended(session: Session, token: str) -> None:
    """A refused token that the anomaly counters suspended says so (``credential-suspended``):
    only refused requests pay for this look-up."""
    if suspension_of(session, credential_id=credential_id(hash_token(token))) is not None:
        raise CredentialSuspended


def _guard_principal(
    session: Session, request: Request, resolved: ResolvedSession, now: datetime
) -> None:
    """Let a later 404 count against this principal, and refuse one locked for probing."""
    probing.note_principal(request, resolved.principal)
    probing.check_not_locked(session, request=request, principal=resolved.principal, now=now)


def _guard_anonymous(database: Database, request: Request, now: datetime) -> None:
    """Refuse an address (or its network) locked for probing: anonymous locks are enforced too."""
    with database.read() as session:
        probing.check_not_locked(session, request=request, principal=ANONYMOUS, now=now)


SessionDep = Annotated[ResolvedSession | None, Depends(_session)]


async def _principal(resolved: SessionDep) -> Principal:
    return resolved.principal if resolved is not None else ANONYMOUS


def _sign_in_first(request: Request) -> Unauthenticated | CredentialSuspended:
    if getattr(request.state, "colloque_suspended", False):
        return CredentialSuspended()
    return Unauthenticated("sign in to do this")


async def _current_session(request: Request, resolved: SessionDep) -> ResolvedSession:
    if resolved is None:
        raise _sign_in_first(request)
    return resolved


async def _signed_in(
    request: Request, principal: Annotated[Principal, Depends(_principal)]
) -> Principal:
    if not principal.is_authenticated:
        raise _sign_in_first(request)
    return principal


#: Anyone, signed in or not (search, public practice pages).
AnyPrincipal = Annotated[Principal, Depends(_principal)]
#: A signed-in account; anonymous requests get a 401 problem.
CurrentPrincipal = Annotated[Principal, Depends(_signed_in)]
#: The signed-in session itself (logout, re-authentication, sensitive changes).
CurrentSession = Annotated[ResolvedSession, Depends(_current_session)]


@dataclass(frozen=True, slots=True)
class PrincipalInTransaction:
    """A signed-in principal that the route resolves inside its own write transaction.

    The hot write routes (booking) take this instead of :data:`CurrentPrincipal`: resolving the
    session there saves a transaction and a trip through the thread pool per request, about a
    tenth of a booking's cost (docs/benchmarks.md, "Booking"). What is checked and refused is
    the same (:func:`_resolve`); two things differ: a malformed body is answered (422) before a
    token that is no longer valid, and the activity stamp is written with the route's change, so
    a refused change does not record activity.
    """

    request: Request
    bearer: str | None
    cookie: str | None

    def resolve(self, session: Session, *, now: datetime) -> Principal:
        resolved = _resolve(session, self.request, now, bearer=self.bearer, cookie=self.cookie)
        if resolved is None:
            raise _sign_in_first(self.request)
        if resolved.needs_touch:
            touch_session(session, now=now, token_hash=resolved.token_hash)
        return resolved.principal


async def _principal_in_transaction(
    request: Request,
    database: DB,
    clock: ClockDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    cookie: Annotated[str | None, Depends(_cookie)],
) -> PrincipalInTransaction:
    if credentials is None and cookie is None:
        # Nothing to resolve: refused at once, as CurrentPrincipal refuses (a locked address
        # first), without waiting for the body's validation.
        await run_in_threadpool(_guard_anonymous, database, request, clock.now())
        raise _sign_in_first(request)
    return PrincipalInTransaction(
        request=request,
        bearer=None if credentials is None else credentials.credentials,
        cookie=cookie,
    )


#: A signed-in account, resolved by the route in its own transaction (hot write routes only).
PendingPrincipal = Annotated[PrincipalInTransaction, Depends(_principal_in_transaction)]

#: How the OpenAPI document (api/openapi.py) tells which routes need a principal, which only
#: accept one, and which count attempts per client address (and so may answer 429).
REQUIRES_PRINCIPAL = (_signed_in, _current_session, _principal_in_transaction)
ACCEPTS_PRINCIPAL = (_session,)
COUNTS_ATTEMPTS = (_client_ip,)
