"""Sessions and devices: an account's owner lists its open sessions and ends any of them; a
practice admin lists and ends every session of a member (docs/accounts.md, "Sessions and devices").

A session is shown by its credential id (the first 128 bits of its token's SHA-256, the id the
audit log names it by; never the hash itself), its kind, the software it was opened from, its
place (a network prefix: we ship no GeoIP database), when it was opened and last used. Another
account's session id answers exactly like one that does not exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from colloque.accounts.devices import UNKNOWN_SOFTWARE
from colloque.accounts.mailing import sessions_ended_by_admin
from colloque.accounts.models import AccessToken, Account
from colloque.accounts.sessions import (
    ResolvedSession,
    SessionKind,
    end_account_sessions,
    has_ended,
    load_memberships,
)
from colloque.audit.services import AuditAction, record
from colloque.authorization.policy import Action, PracticeTarget, require
from colloque.errors import NotFound
from colloque.notifications.interfaces import MailMessage
from colloque.principal import Principal, credential_id
from colloque.scheduling.models import Practice, PracticeMember


@dataclass(frozen=True, slots=True)
class SessionInfo:
    session_id: UUID
    #: "cookie" (a browser) or "token" (a bearer token: an API client, the CLI, an integration).
    kind: str
    label: str
    #: The network prefix it was opened from, or None when unknown.
    place: str | None
    created_at: datetime
    last_used_at: datetime
    expires_at: datetime
    current: bool


def _open_sessions(
    session: Session, *, now: datetime, account_id: UUID, current: bytes | None
) -> list[SessionInfo]:
    """The account's sessions still open (not expired, idle or too old for its role), most
    recently used first."""
    is_operator = bool(
        session.scalar(select(Account.is_operator).where(Account.account_id == account_id))
    )
    is_staff = is_operator or bool(load_memberships(session, account_id))
    rows = session.scalars(select(AccessToken).where(AccessToken.account_id == account_id))
    shown = [
        SessionInfo(
            session_id=credential_id(row.token_hash),
            kind="cookie" if row.kind == SessionKind.COOKIE.value else "token",
            label=row.label or UNKNOWN_SOFTWARE,
            place=row.place,
            created_at=row.created_at,
            last_used_at=row.last_seen_at or row.created_at,
            expires_at=row.expires_at,
            current=row.token_hash == current,
        )
        for row in rows
        if not has_ended(row, now=now, is_staff=is_staff)
    ]
    return sorted(shown, key=lambda info: (not info.current, -info.last_used_at.timestamp()))


def list_own_sessions(
    session: Session, *, now: datetime, resolved: ResolvedSession
) -> list[SessionInfo]:
    """The caller's own sessions, the current one marked. Nothing to decide: an account sees
    only its own (as for logging out elsewhere)."""
    return _open_sessions(
        session, now=now, account_id=resolved.account_id, current=resolved.token_hash
    )


def do_end_own_session(
    session: Session, *, now: datetime, resolved: ResolvedSession, session_id: UUID
) -> bool:
    """End one of the caller's sessions. Returns whether it was the current one. Another
    account's session, like one that does not exist, is a 404."""
    ended = session.execute(
        delete(AccessToken)
        .where(
            AccessToken.account_id == resolved.account_id,
            func.substr(AccessToken.token_hash, 1, 16) == session_id.bytes,
        )
        .returning(AccessToken.token_hash)
    ).all()
    if not ended:
        raise NotFound("session not found", field="session_id")
    record(
        session,
        at=now,
        action=AuditAction.SESSION_ENDED,
        principal=resolved.principal,
        object_kind="account",
        object_id=resolved.account_id,
    )
    return any(row.token_hash == resolved.token_hash for row in ended)


def _member(session: Session, *, principal: Principal, practice_id: UUID, account_id: UUID) -> str:
    """The practice's name, once the principal may manage its members' sessions and the account
    is one of its members (404 otherwise, as for a member that does not exist)."""
    require(
        principal,
        Action.PRACTICE_MEMBER_SESSIONS_MANAGE,
        PracticeTarget(practice_id),
        what="practice",
    )
    name = session.scalar(
        select(Practice.name)
        .join(PracticeMember, PracticeMember.practice_id == Practice.practice_id)
        .where(PracticeMember.practice_id == practice_id, PracticeMember.account_id == account_id)
    )
    if name is None:
        raise NotFound("member not found", field="account_id")
    return name


def list_member_sessions(
    session: Session, *, now: datetime, principal: Principal, practice_id: UUID, account_id: UUID
) -> list[SessionInfo]:
    """A member's open sessions, for an admin of the practice (audited: when and where a member
    works is theirs)."""
    _member(session, principal=principal, practice_id=practice_id, account_id=account_id)
    record(
        session,
        at=now,
        action=AuditAction.MEMBER_SESSIONS_LISTED,
        principal=principal,
        object_kind="account",
        object_id=account_id,
        practice_id=practice_id,
    )
    return _open_sessions(session, now=now, account_id=account_id, current=None)


@dataclass(frozen=True, slots=True)
class EndedSessions:
    count: int
    #: The member's notice (none for an account without an address).
    notice: MailMessage | None


def do_end_member_sessions(
    session: Session, *, now: datetime, principal: Principal, practice_id: UUID, account_id: UUID
) -> EndedSessions:
    """An admin ends every session of a member (browsers, API clients, issued tokens): a lost
    phone, a token that leaked. The member signs in again (with MFA) and carries on; they are
    told by mail. The caller queues the notice in the same transaction."""
    practice_name = _member(
        session, principal=principal, practice_id=practice_id, account_id=account_id
    )
    count = end_account_sessions(session, account_id=account_id)
    record(
        session,
        at=now,
        action=AuditAction.MEMBER_SESSIONS_ENDED,
        principal=principal,
        object_kind="account",
        object_id=account_id,
        practice_id=practice_id,
    )
    email = session.scalar(select(Account.email).where(Account.account_id == account_id))
    notice = (
        sessions_ended_by_admin(email, practice_name=practice_name, at=now, account_id=account_id)
        if email
        else None
    )
    return EndedSessions(count=count, notice=notice)
