"""The mass-change breaker: too many cancellations or moves from one practice or one account
in a window, and their messages wait for a practice admin instead of going out.

Decided when the message is queued, inside the change's own transaction (docs/notifications.md,
"Mass-change breaker"): the worker then never sees a held row, so "how many went out before the
pause" is exact whatever the worker's batching, and the count is of what people did (the
changes, when they happened), not of when a worker came round.

For a counted message (a cancellation or a move not ``approved`` by an admin shown the count):

1. an open pause of its practice, practice-wide or for the account that caused it: the row is
   held in it;
2. else if the account's counted messages in the window (in every practice), with this one, pass
   the limit: a pause for that account in this practice opens and holds the row;
3. else if the practice's, with this one, pass it: a practice-wide pause opens and holds it.

A row that was ever held (``pause_id``) is not counted again, and an admin's decision re-arms the
breaker: the window starts again after the last release or discard of a pause of the practice or
of the account, so that an admin who released a legitimate batch is not paused again by the next
change.

Under concurrency on PostgreSQL (READ COMMITTED), transactions that count at the same time do
not see each other's uncommitted rows: with k such transactions at the threshold, up to k - 1
messages more than the limit can be queued as pending. Two that trip at once meet on the
open-pause unique index: the second re-reads the first's pause and joins it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from colloque.ids import new_id
from colloque.notifications.models import OutboxMessage, OutboxPause

#: The messages that count: what a mass cancellation or a mass move sends.
COUNTED_TEMPLATES = ("appointment_cancelled", "appointment_moved")
#: ``Session.info`` key under which the process's limits are found (``Database.session_info``).
LIMITS_KEY = "mass_change_limits"
PRACTICE_SCOPE = "practice"


@dataclass(frozen=True, slots=True)
class MassChangeLimits:
    """More than ``limit`` counted messages in ``window`` trips the breaker."""

    limit: int = 50
    window: timedelta = timedelta(minutes=10)


def limits_of(session: Session) -> MassChangeLimits:
    limits = session.info.get(LIMITS_KEY)
    return limits if isinstance(limits, MassChangeLimits) else MassChangeLimits()


def hold_if_tripped(
    session: Session,
    *,
    at: datetime,
    practice_id: UUID,
    template: str,
    caused_by: UUID | None,
    approved: bool,
) -> UUID | None:
    """The pause a new message must wait in, opening one if this message trips the breaker;
    None when it may go."""
    if approved or template not in COUNTED_TEMPLATES:
        return None
    open_pause = _open_pause(session, practice_id=practice_id, caused_by=caused_by)
    if open_pause is not None:
        return open_pause
    limits = limits_of(session)
    since = _window_start(session, at=at, limits=limits, practice_id=practice_id, by=caused_by)
    if (
        caused_by is not None
        and _count(session, OutboxMessage.caused_by == caused_by, since=since) >= limits.limit
    ):
        return _trip(session, at=at, practice_id=practice_id, principal_account_id=caused_by)
    if _count(session, OutboxMessage.practice_id == practice_id, since=since) >= limits.limit:
        return _trip(session, at=at, practice_id=practice_id, principal_account_id=None)
    return None


def _open_pause(session: Session, *, practice_id: UUID, caused_by: UUID | None) -> UUID | None:
    scopes = [PRACTICE_SCOPE] if caused_by is None else [PRACTICE_SCOPE, str(caused_by)]
    # FOR SHARE: an admin releasing this pause at the same moment locks it FOR UPDATE, so the
    # row joins it before the release counts, or (the pause re-read once released) is not held.
    rows = session.execute(
        select(OutboxPause.pause_id, OutboxPause.scope_key)
        .where(
            OutboxPause.practice_id == practice_id,
            OutboxPause.status == "open",
            OutboxPause.scope_key.in_(scopes),
        )
        .with_for_update(read=True)
    ).all()
    by_scope: dict[str, UUID] = {scope_key: pause_id for pause_id, scope_key in rows}
    # The account's own pause first: its admins see who caused the held messages.
    if caused_by is not None and str(caused_by) in by_scope:
        return by_scope[str(caused_by)]
    return by_scope.get(PRACTICE_SCOPE)


def _window_start(
    session: Session,
    *,
    at: datetime,
    limits: MassChangeLimits,
    practice_id: UUID,
    by: UUID | None,
) -> datetime:
    """The window, started again after the last decision an admin took on a pause of this
    practice or of this account: what came before was reviewed."""
    scope = OutboxPause.practice_id == practice_id
    if by is not None:
        scope = scope | (OutboxPause.principal_account_id == by)
    resolved: datetime | None = session.scalar(
        select(func.max(OutboxPause.resolved_at)).where(scope, OutboxPause.status != "open")
    )
    start = at - limits.window
    return max(start, resolved) if resolved is not None else start


def _count(session: Session, who: ColumnElement[bool], *, since: datetime) -> int:
    counted = session.scalar(
        select(func.count()).where(
            who,
            OutboxMessage.template.in_(COUNTED_TEMPLATES),
            OutboxMessage.approved.is_(False),
            OutboxMessage.pause_id.is_(None),
            OutboxMessage.created_at > since,
        )
    )
    return counted or 0


def _trip(
    session: Session, *, at: datetime, practice_id: UUID, principal_account_id: UUID | None
) -> UUID:
    scope_key = PRACTICE_SCOPE if principal_account_id is None else str(principal_account_id)
    pause_id = new_id()
    try:
        # A savepoint: when a concurrent transaction opened the same pause first (PostgreSQL
        # waits for it, then reports the unique index), the change goes on and joins it.
        with session.begin_nested():
            session.add(
                OutboxPause(
                    practice_id=practice_id,
                    pause_id=pause_id,
                    principal_account_id=principal_account_id,
                    scope_key=scope_key,
                    status="open",
                    tripped_at=at,
                )
            )
    except IntegrityError:
        existing: UUID | None = session.scalar(
            select(OutboxPause.pause_id).where(
                OutboxPause.practice_id == practice_id,
                OutboxPause.scope_key == scope_key,
                OutboxPause.status == "open",
            )
        )
        if existing is None:  # resolved in the instant between: let the change be retried
            raise
        return existing
    return pause_id
