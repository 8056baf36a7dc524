"""The mass-change breaker's pauses, for a practice's admins and the operator: list them with how
many messages wait, release them (the messages go, still checked at delivery: an appointment that
has since begun is not told), or discard them (never sent). And the admins' alert, queued once per
pause by the worker.

A pause (``notifications.breaker``) is opened inside a change's transaction; this module is where
people act on it. Each change here is one transaction: the pause, its messages and the audit event.
Nothing here reads or shows a patient: ids, templates, counts and who tripped it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from colloque.accounts.models import Account
from colloque.audit.objects import ObjectKind
from colloque.audit.services import AuditAction, record
from colloque.authorization.policy import Action, PracticeTarget, require
from colloque.errors import Conflict, NotFound
from colloque.notifications.account_mail import enqueue_account_mail
from colloque.notifications.interfaces import MailMessage
from colloque.notifications.models import OutboxMessage, OutboxPause
from colloque.principal import Principal, Role
from colloque.scheduling.models import Practice, PracticeMember

#: The category a discarded message is failed with: visible in the failed list as such.
DISCARDED = "discarded"


@dataclass(frozen=True, slots=True)
class PauseView:
    practice_id: UUID
    pause_id: UUID
    #: The account whose changes tripped it; None when the practice as a whole did.
    principal_account_id: UUID | None
    status: str
    tripped_at: datetime
    #: Messages waiting now.
    held: int
    #: Of those, cancellations and moves.
    held_cancellations: int
    held_moves: int
    alerted_at: datetime | None
    resolved_at: datetime | None
    resolved_by: UUID | None
    resolved_count: int | None

    def refs(self) -> list[tuple[ObjectKind, UUID]]:
        """What showing this pause names in an audit event: it and the accounts it shows."""
        accounts = {self.principal_account_id, self.resolved_by} - {None}
        return [(ObjectKind.OUTBOX_PAUSE, self.pause_id)] + [
            (ObjectKind.ACCOUNT, account) for account in accounts if account is not None
        ]


def pauses(
    session: Session,
    *,
    practice_id: UUID | None = None,
    only_open: bool = True,
    limit: int = 100,
) -> list[PauseView]:
    """The newest pauses, of one practice or (the operator) of all, with their held counts."""
    statement = select(OutboxPause)
    if practice_id is not None:
        statement = statement.where(OutboxPause.practice_id == practice_id)
    if only_open:
        statement = statement.where(OutboxPause.status == "open")
    rows = list(session.scalars(statement.order_by(OutboxPause.tripped_at.desc()).limit(limit)))
    counts = _held_counts(session, [row.pause_id for row in rows])
    return [_view(row, counts.get(row.pause_id, {})) for row in rows]


def list_pauses(
    session: Session,
    *,
    now: datetime,
    principal: Principal,
    practice_id: UUID,
    only_open: bool = True,
    limit: int = 100,
) -> list[PauseView]:
    """A practice's admins see its pauses (``practice:outbox:view``); the read is audited,
    naming each pause and the accounts that tripped or resolved it."""
    require(principal, Action.PRACTICE_OUTBOX_VIEW, PracticeTarget(practice_id), what="practice")
    found = pauses(session, practice_id=practice_id, only_open=only_open, limit=limit)
    record(
        session,
        at=now,
        action=AuditAction.OUTBOX_PAUSES_LISTED,
        principal=principal,
        practice_id=practice_id,
        object_kind="outbox_pause_list",
        object_id=None,
        objects=[ref for pause in found for ref in pause.refs()],
    )
    return found


def do_release_pause(
    session: Session, *, now: datetime, principal: Principal, practice_id: UUID, pause_id: UUID
) -> PauseView:
    """Let the held messages go: due now, the worker sends them (each checked again then)."""
    require(
        principal,
        Action.PRACTICE_OUTBOX_MANAGE,
        PracticeTarget(practice_id),
        what="pause",
        field="pause_id",
    )
    return _resolve(
        session,
        now=now,
        practice_id=practice_id,
        pause_id=pause_id,
        release=True,
        principal=principal,
    )


def do_discard_pause(
    session: Session, *, now: datetime, principal: Principal, practice_id: UUID, pause_id: UUID
) -> PauseView:
    """Drop the held messages: failed as ``discarded``, never sent."""
    require(
        principal,
        Action.PRACTICE_OUTBOX_MANAGE,
        PracticeTarget(practice_id),
        what="pause",
        field="pause_id",
    )
    return _resolve(
        session,
        now=now,
        practice_id=practice_id,
        pause_id=pause_id,
        release=False,
        principal=principal,
    )


def _resolve(
    session: Session,
    *,
    now: datetime,
    practice_id: UUID,
    pause_id: UUID,
    release: bool,
    principal: Principal,
) -> PauseView:
    """Release or discard, once the caller checked the policy.

    The pause is locked first: a change queueing a message into it at the same moment reads it
    ``FOR SHARE`` (``notifications.breaker``), so its row is either held before this counts them
    or queued after as if the pause had never been.
    """
    pause = session.scalars(
        select(OutboxPause)
        .where(OutboxPause.practice_id == practice_id, OutboxPause.pause_id == pause_id)
        .with_for_update()
    ).one_or_none()
    if pause is None:
        raise NotFound("pause not found", field="pause_id")
    if pause.status != "open":
        raise Conflict(f"this pause was already {pause.status}", field="pause_id")
    counts = _held_counts(session, [pause_id]).get(pause_id, {})
    values: dict[str, object] = (
        {"status": "pending", "due_at": now, "leased_until": None}
        if release
        else {"status": "failed", "last_error": DISCARDED}
    )
    result = session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.practice_id == practice_id,
            OutboxMessage.pause_id == pause_id,
            OutboxMessage.status == "held",
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    pause.status = "released" if release else "discarded"
    pause.resolved_at = now
    pause.resolved_by = principal.account_id
    pause.resolved_count = int(getattr(result, "rowcount", 0))
    view = _view(pause, counts)
    record(
        session,
        at=now,
        action=AuditAction.OUTBOX_PAUSE_RELEASED if release else AuditAction.OUTBOX_PAUSE_DISCARDED,
        principal=principal,
        object_kind="outbox_pause",
        object_id=pause_id,
        practice_id=practice_id,
        objects=view.refs(),
    )
    session.flush()
    return view


# -- the admins' alert ---------------------------------------------------------------------


def alert_admins(session: Session, *, now: datetime, key: bytes, public_url: str) -> int:
    """Queue one account mail per admin for each pause not yet alerted; return the pauses.

    Called by the worker in a write transaction; the pause is marked alerted in the same one, so
    each is told once (concurrent workers skip a pause another one holds).
    """
    opened = list(
        session.scalars(
            select(OutboxPause)
            .where(OutboxPause.status == "open", OutboxPause.alerted_at.is_(None))
            .order_by(OutboxPause.tripped_at)
            .limit(100)
            .with_for_update(skip_locked=True)
        )
    )
    for pause in opened:
        held = sum(_held_counts(session, [pause.pause_id]).get(pause.pause_id, {}).values())
        practice_name = session.scalar(
            select(Practice.name).where(Practice.practice_id == pause.practice_id)
        )
        admins = session.execute(
            select(Account.email, Account.language, Account.account_id)
            .join(PracticeMember, PracticeMember.account_id == Account.account_id)
            .where(
                PracticeMember.practice_id == pause.practice_id,
                PracticeMember.role == Role.ADMIN.value,
                Account.email.is_not(None),
                Account.disabled.is_(False),
            )
        ).all()
        link = f"{public_url.rstrip('/')}/practice/{pause.practice_id}/outbox"
        for email, language, account_id in admins:
            message = _alert(
                str(email),
                account_id=account_id,
                language=language,
                practice=practice_name or "",
                held=held,
                by_one_account=pause.principal_account_id is not None,
                link=link,
            )
            enqueue_account_mail(
                session,
                message,
                at=now,
                kind="mass_change_held",
                key=key,
                inbox_url=f"{public_url.rstrip('/')}/me/notifications",
            )
        pause.alerted_at = now
    return len(opened)


def _alert(
    to: str,
    *,
    account_id: UUID,
    language: str,
    practice: str,
    held: int,
    by_one_account: bool,
    link: str,
) -> MailMessage:
    """No patient, no appointment, no time: how many wait and where to decide."""
    if language == "en":
        who = "one account of the practice" if by_one_account else "the practice"
        return MailMessage(
            to=to,
            account_id=account_id,
            language="en",
            subject="Colloque: messages held for your review",
            text=(
                f"More cancellations or moves than usual came from {who} at {practice} in a "
                f"short time, so Colloque stopped sending their messages to patients. "
                f"{held} message(s) are waiting (more may join until you decide).\n\n"
                f"Review them, then release or discard them: {link}\n\n-- \nColloque\n"
            ),
        )
    who = "un compte du cabinet" if by_one_account else "le cabinet"
    return MailMessage(
        to=to,
        account_id=account_id,
        subject="Colloque : messages en attente de votre décision",
        text=(
            f"Plus d'annulations ou de déplacements que d'habitude sont venus de {who} "
            f"{practice} en peu de temps : Colloque a suspendu l'envoi de leurs messages aux "
            f"patients. {held} message(s) attendent (d'autres peuvent s'ajouter jusqu'à votre "
            f"décision).\n\nExaminez-les, puis envoyez-les ou abandonnez-les : {link}\n\n"
            "-- \nColloque\n"
        ),
    )


def _held_counts(session: Session, pause_ids: list[UUID]) -> dict[UUID, dict[str, int]]:
    if not pause_ids:
        return {}
    rows = session.execute(
        select(OutboxMessage.pause_id, OutboxMessage.template, func.count())
        .where(OutboxMessage.pause_id.in_(pause_ids), OutboxMessage.status == "held")
        .group_by(OutboxMessage.pause_id, OutboxMessage.template)
    ).all()
    counts: dict[UUID, dict[str, int]] = {}
    for pause_id, template, count in rows:
        if pause_id is not None:  # always, by the query's filter; narrows the type
            counts.setdefault(pause_id, {})[template] = int(count)
    return counts


def _view(row: OutboxPause, counts: dict[str, int]) -> PauseView:
    return PauseView(
        practice_id=row.practice_id,
        pause_id=row.pause_id,
        principal_account_id=row.principal_account_id,
        status=row.status,
        tripped_at=row.tripped_at,
        held=sum(counts.values()) if row.status == "open" else 0,
        held_cancellations=counts.get("appointment_cancelled", 0) if row.status == "open" else 0,
        held_moves=counts.get("appointment_moved", 0) if row.status == "open" else 0,
        alerted_at=row.alerted_at,
        resolved_at=row.resolved_at,
        resolved_by=row.resolved_by,
        resolved_count=row.resolved_count,
    )
