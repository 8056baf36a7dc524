"""Sessions: browser cookies, bearer tokens from a login, and tokens issued in-process.

A session is a row of ``access_tokens`` keyed by the SHA-256 of a 256-bit random token. Login
sessions end after an idle time and an absolute lifetime that depend on the account's role
(docs/accounts.md). Tokens issued in-process (CLI, demo, tests) end at their own ``expires_at``;
a staff account's (a practice member's or an operator's) also end like its login sessions, unless
issued for an integration. Every session of an account ends when its password changes, when it is
recovered and when it is disabled; its owner can end any of them, and a practice admin all of a
member's. ``last_seen_at`` is written at most once a minute.
"""

from __future__ import annotations

import enum
import hmac
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import MappingProxyType
from uuid import UUID

from sqlalchemy import delete, exists, func, or_, select, update
from sqlalchemy.orm import Session

from colloque.accounts.config import sha256
from colloque.accounts.grants import active_grants
from colloque.accounts.interfaces import ReauthenticationRequired
from colloque.accounts.models import AccessToken, Account
from colloque.audit.addresses import prefix_of
from colloque.errors import Forbidden, Unauthenticated
from colloque.principal import Membership, Principal, Role, credential_id
from colloque.scheduling.models import PracticeMember

TOKEN_BYTES = 32
TOKEN_PREFIX = "clq_"  # noqa: S105 - a public marker, not a secret
MEMBER_IDLE = timedelta(minutes=30)
MEMBER_LIFETIME = timedelta(hours=12)
PATIENT_IDLE = timedelta(hours=24)
PATIENT_LIFETIME = timedelta(days=30)
TOUCH_EVERY = timedelta(minutes=1)
#: How long a re-authentication allows sensitive changes (email, MFA, deletion).
REAUTH_WINDOW = timedelta(minutes=5)
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class SessionKind(enum.StrEnum):
    ISSUED = "issued"
    COOKIE = "cookie"
    BEARER = "bearer"


def hash_token(token: str) -> bytes:
    return sha256(token.encode())


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(TOKEN_BYTES)


def limits_for(*, is_member: bool) -> tuple[timedelta, timedelta]:
    """(idle timeout, absolute lifetime) of a login session; ``is_member``: a staff account (a
    practice member or an operator)."""
    return (MEMBER_IDLE, MEMBER_LIFETIME) if is_member else (PATIENT_IDLE, PATIENT_LIFETIME)


def session_limits(
    kind: SessionKind, *, is_staff: bool, integration: bool
) -> tuple[timedelta, timedelta] | None:
    """(idle timeout, lifetime from creation) that end a session besides its ``expires_at``, or
    None when only that does. Login sessions follow the account's current role. An issued token
    is bounded like a staff login session when its account is staff now, unless it was issued
    for an integration: a token left in a script or a terminal must not outlive a working day."""
    if kind is not SessionKind.ISSUED:
        return limits_for(is_member=is_staff)
    if is_staff and not integration:
        return MEMBER_IDLE, MEMBER_LIFETIME
    return None


def _is_staff(session: Session, account_id: UUID) -> bool:
    """A practice member or an operator (one statement, as the membership read it replaces)."""
    member = exists().where(PracticeMember.account_id == account_id)
    return bool(
        session.scalar(
            select(or_(Account.is_operator, member)).where(Account.account_id == account_id)
        )
    )


def place_of(client_ip: str) -> str | None:
    """The network prefix a session's owner is shown (/24, /48: as the audit log keeps it; we
    ship no GeoIP database), or None for what is not an IP address (a test client)."""
    prefix = prefix_of(client_ip)
    return None if prefix == "other" else prefix


def load_memberships(session: Session, account_id: UUID) -> MappingProxyType[UUID, Membership]:
    return MappingProxyType(
        {
            m.practice_id: Membership(role=Role(m.role), practitioner_id=m.practitioner_id)
            for m in session.scalars(
                select(PracticeMember).where(PracticeMember.account_id == account_id)
            )
        }
    )


@dataclass(frozen=True)
class NewSession:
    """A session just opened. The tokens exist only here; the database keeps their hashes."""

    kind: SessionKind
    token: str = field(repr=False)
    csrf_token: str | None = field(repr=False)
    expires_at: datetime
    idle_timeout: timedelta | None


def open_session(
    session: Session,
    *,
    now: datetime,
    account_id: UUID,
    kind: SessionKind,
    mfa_verified: bool,
    lifetime: timedelta | None = None,
    integration: bool = False,
    label: str | None = None,
    place: str | None = None,
) -> NewSession:
    """Open a session. A login session counts as a fresh re-authentication. ``label`` and
    ``place`` are what its owner sees of it: the software and the network prefix it came from."""
    idle: timedelta | None = None
    bounds = session_limits(kind, is_staff=_is_staff(session, account_id), integration=integration)
    if kind is SessionKind.ISSUED:
        assert lifetime is not None
    else:
        integration = False
    if bounds is not None:
        idle = bounds[0]
        lifetime = bounds[1] if lifetime is None else min(lifetime, bounds[1])
    assert lifetime is not None
    token = new_token()
    csrf_token = secrets.token_urlsafe(TOKEN_BYTES) if kind is SessionKind.COOKIE else None
    session.add(
        AccessToken(
            token_hash=hash_token(token),
            account_id=account_id,
            created_at=now,
            expires_at=now + lifetime,
            kind=kind.value,
            csrf_hash=hash_token(csrf_token) if csrf_token is not None else None,
            mfa_verified=mfa_verified,
            last_seen_at=now,
            reauth_at=None if kind is SessionKind.ISSUED else now,
            label=label,
            place=place,
            integration=integration,
        )
    )
    return NewSession(kind, token, csrf_token, now + lifetime, idle)


@dataclass(frozen=True)
class ResolvedSession:
    """The session behind a request, and the principal it stands for."""

    principal: Principal
    token_hash: bytes = field(repr=False)
    kind: SessionKind
    csrf_hash: bytes | None = field(repr=False)
    mfa_verified: bool
    reauth_at: datetime | None
    needs_touch: bool

    @property
    def account_id(self) -> UUID:
        assert self.principal.account_id is not None
        return self.principal.account_id


def resolve_session(session: Session, *, now: datetime, token: str) -> ResolvedSession:
    """Early exits, in order: unknown token, disabled account, expired, idle or too old: refused."""
    found = session.execute(
        select(AccessToken, Account)
        .join(Account, Account.account_id == AccessToken.account_id)
        .where(AccessToken.token_hash == hash_token(token))
    ).one_or_none()
    if found is None:
        raise Unauthenticated("the access token is not valid")
    row, account = found
    if account.disabled or row.expires_at <= now:
        raise Unauthenticated("the access token is not valid")
    memberships = load_memberships(session, account.account_id)
    if account.is_operator:
        # Time-limited grants from practice admins; a real membership wins over a grant.
        memberships = MappingProxyType(
            {**active_grants(session, account.account_id, now), **memberships}
        )
    kind = SessionKind(row.kind)
    last_seen = row.last_seen_at or row.created_at
    if has_ended(row, now=now, is_staff=bool(memberships) or account.is_operator):
        raise Unauthenticated("the session has ended; sign in again")
    principal = Principal(
        account_id=account.account_id,
        memberships=memberships,
        is_operator=account.is_operator,
        mfa_satisfied=not memberships or row.mfa_verified,
        credential_id=credential_id(row.token_hash),
    )
    return ResolvedSession(
        principal=principal,
        token_hash=row.token_hash,
        kind=kind,
        csrf_hash=row.csrf_hash,
        mfa_verified=row.mfa_verified,
        reauth_at=row.reauth_at,
        needs_touch=now - last_seen >= TOUCH_EVERY,
    )


def has_ended(row: AccessToken, *, now: datetime, is_staff: bool) -> bool:
    """Past its expiry, idle too long or too old for the account's current role."""
    if row.expires_at <= now:
        return True
    bounds = session_limits(SessionKind(row.kind), is_staff=is_staff, integration=row.integration)
    if bounds is None:
        return False
    idle, lifetime = bounds
    return now >= (row.last_seen_at or row.created_at) + idle or now >= row.created_at + lifetime


def touch_session(session: Session, *, now: datetime, token_hash: bytes) -> None:
    """Record activity; a no-op when another request did within the minute."""
    session.execute(
        update(AccessToken)
        .where(
            AccessToken.token_hash == token_hash,
            or_(AccessToken.last_seen_at.is_(None), AccessToken.last_seen_at <= now - TOUCH_EVERY),
        )
        .values(last_seen_at=now)
    )


def check_csrf(resolved: ResolvedSession, *, method: str, header: str | None) -> None:
    """Cookie sessions: unsafe methods must echo the CSRF token (double submit)."""
    if resolved.kind is not SessionKind.COOKIE or method.upper() in SAFE_METHODS:
        return
    assert resolved.csrf_hash is not None  # a CHECK constraint guarantees it
    if header is None or not hmac.compare_digest(hash_token(header), resolved.csrf_hash):
        raise Forbidden("the CSRF token is missing or does not match", field="X-CSRF-Token")


def require_recent_reauth(resolved: ResolvedSession, *, now: datetime) -> None:
    if resolved.reauth_at is None or now - resolved.reauth_at > REAUTH_WINDOW:
        raise ReauthenticationRequired(
            "confirm your password (and your code) first: POST /api/v1/auth/reauth"
        )


def mark_reauthenticated(session: Session, *, token_hash: bytes, now: datetime) -> None:
    session.execute(
        update(AccessToken).where(AccessToken.token_hash == token_hash).values(reauth_at=now)
    )


def end_session(session: Session, *, token_hash: bytes) -> None:
    session.execute(delete(AccessToken).where(AccessToken.token_hash == token_hash))


def end_all_sessions(session: Session, *, account_id: UUID) -> None:
    session.execute(delete(AccessToken).where(AccessToken.account_id == account_id))


def end_other_sessions(session: Session, *, account_id: UUID, keep: bytes) -> int:
    """End every session of the account but the one whose token hashes to ``keep``: cookies,
    bearer tokens and issued tokens alike. Returns how many ended."""
    ended = session.execute(
        delete(AccessToken)
        .where(AccessToken.account_id == account_id, AccessToken.token_hash != keep)
        .returning(AccessToken.token_hash)
    )
    return len(ended.all())


def end_credential(session: Session, *, credential: UUID) -> int:
    """End the session or token the audit log names ``credential`` (the first 128 bits of its
    hash, :func:`colloque.principal.credential_id`), whoever's it is: an incident's containment.
    Returns how many ended (0 or 1; more only if two hashes shared 128 bits)."""
    ended = session.execute(
        delete(AccessToken)
        .where(func.substr(AccessToken.token_hash, 1, 16) == credential.bytes)
        .returning(AccessToken.token_hash)
    )
    return len(ended.all())


def end_account_sessions(session: Session, *, account_id: UUID) -> int:
    """End every session and token of the account. Returns how many ended."""
    ended = session.execute(
        delete(AccessToken)
        .where(AccessToken.account_id == account_id)
        .returning(AccessToken.token_hash)
    )
    return len(ended.all())


def purge_expired(session: Session, *, now: datetime) -> None:
    """Drop sessions past their absolute expiry (for the periodic upkeep)."""
    session.execute(delete(AccessToken).where(AccessToken.expires_at <= now))


#: The browser session cookie (HttpOnly) and the CSRF cookie the page reads (not HttpOnly).
SESSION_COOKIE = "colloque_session"
CSRF_COOKIE = "colloque_csrf"
CSRF_HEADER = "X-CSRF-Token"
