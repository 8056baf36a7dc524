"""A practice's audit log for its admins: who among its members (and the operators it granted
access) did what, filtered by member, patient, action and time, newest first (docs/audit-access.md).

Each event comes with what an investigation needs and no more: the time, the member and their
role, the action and its outcome, every object it named (kinds and ids), the credential and the
client's network prefix. Never the full client address, which stays in its side table for the
retention period. Reading the log is itself an event of the practice's log.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.orm import Session

from colloque.accesslog.paging import Cursor
from colloque.accounts.models import Account
from colloque.audit.models import AuditEvent, AuditEventSubject
from colloque.audit.objects import ObjectKind, unpack
from colloque.audit.services import AuditAction, record
from colloque.authorization.policy import Action, PracticeTarget, require
from colloque.errors import InvalidInput
from colloque.principal import Principal


@dataclass(frozen=True, slots=True)
class LogFilter:
    """Every field narrows the log; None leaves it open. The window is ``[start, end)``."""

    member_id: UUID | None = None
    patient_id: UUID | None = None
    action: AuditAction | None = None
    start: datetime | None = None
    end: datetime | None = None

    def check(self) -> None:
        for name, instant in (("from", self.start), ("to", self.end)):
            if instant is not None and instant.utcoffset() is None:
                raise InvalidInput("an instant needs its UTC offset", field=name)
        if self.start is not None and self.end is not None and self.end <= self.start:
            raise InvalidInput("the window ends before it starts", field="to")


@dataclass(frozen=True, slots=True)
class LoggedEvent:
    event_id: UUID
    at: datetime
    #: The account that acted (None: anonymous, or the system).
    member_id: UUID | None
    #: That account's display name, as the practice's members page shows it.
    member_name: str | None
    role: str
    action: str
    outcome: str
    #: Why it was denied (a problem type); None when allowed.
    reason: str | None
    interface: str
    #: The session or token it came with: tells a stolen token from its owner's other sessions.
    credential_id: UUID | None
    client_prefix: str | None
    request_id: str | None
    #: Every object the event named, by kind, ids sorted.
    objects: dict[str, list[UUID]]


@dataclass(frozen=True, slots=True)
class LogPage:
    events: list[LoggedEvent]
    next_before: str | None


def list_practice_log(
    session: Session,
    *,
    now: datetime,
    principal: Principal,
    practice_id: UUID,
    where: LogFilter,
    before: str | None = None,
    limit: int = 50,
) -> LogPage:
    require(
        principal,
        Action.PRACTICE_AUDIT_VIEW,
        PracticeTarget(practice_id),
        what="practice",
        field="practice_id",
    )
    where.check()
    cursor = Cursor.decode(before, with_subject=False) if before is not None else None
    query = (
        select(AuditEvent, Account.display_name)
        .outerjoin(Account, Account.account_id == AuditEvent.actor_account_id)
        .where(AuditEvent.practice_id == practice_id)
        .order_by(AuditEvent.at.desc(), AuditEvent.event_id.desc())
        .limit(limit + 1)
    )
    if where.patient_id is not None:
        query = query.join(
            AuditEventSubject,
            (AuditEventSubject.event_id == AuditEvent.event_id)
            & (AuditEventSubject.subject_id == where.patient_id),
        )
    if where.member_id is not None:
        query = query.where(AuditEvent.actor_account_id == where.member_id)
    if where.action is not None:
        query = query.where(AuditEvent.action == where.action.value)
    if where.start is not None:
        query = query.where(AuditEvent.at >= where.start)
    if where.end is not None:
        query = query.where(AuditEvent.at < where.end)
    if cursor is not None:
        query = query.where(cursor.older(AuditEvent.at, AuditEvent.event_id))
    rows = session.execute(query).all()
    shown = rows[:limit]
    events = [_logged(event, name) for event, name in shown]
    named = [(ObjectKind.ACCOUNT, event.member_id) for event in events if event.member_id]
    if where.member_id is not None:
        named.append((ObjectKind.ACCOUNT, where.member_id))
    if where.patient_id is not None:
        named.append((ObjectKind.PATIENT, where.patient_id))
    record(
        session,
        at=now,
        action=AuditAction.PRACTICE_AUDIT_VIEWED,
        principal=principal,
        object_kind=ObjectKind.PRACTICE,
        object_id=practice_id,
        practice_id=practice_id,
        objects=named,
    )
    last = events[-1] if events else None
    next_before = (
        Cursor(last.at, last.event_id).encode() if len(rows) > limit and last is not None else None
    )
    return LogPage(events=events, next_before=next_before)


def _logged(event: AuditEvent, member_name: str | None) -> LoggedEvent:
    if event.objects:
        objects = {kind.value: sorted(ids) for kind, ids in unpack(event.objects).items()}
    elif event.object_id is not None:  # written before the objects column: its main object
        objects = {event.object_kind: [event.object_id]}
    else:
        objects = {}
    return LoggedEvent(
        event_id=event.event_id,
        at=event.at,
        member_id=event.actor_account_id,
        member_name=member_name,
        role=event.actor_role,
        action=event.action,
        outcome=event.outcome,
        reason=event.reason,
        interface=event.interface,
        credential_id=event.credential_id,
        client_prefix=event.client_prefix,
        request_id=event.request_id,
        objects=objects,
    )
