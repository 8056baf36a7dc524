"""Alerts about a credential that was stopped: its owner and, for a member, the practice admins
are told by mail (through the outbox, in the transaction that locked it). No personal data:
neither the member nor any patient is named, only that a session was locked and what to do."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.orm import Session

from colloque.accounts import mailing
from colloque.accounts.models import Account
from colloque.authorization.probing import OnLock
from colloque.notifications.account_mail import enqueue_account_mail
from colloque.notifications.interfaces import MailMessage
from colloque.principal import Principal, Role
from colloque.scheduling.models import PracticeMember


def session_locked(to: str, until: datetime, *, account_id: UUID) -> MailMessage:
    return MailMessage(
        to=to,
        account_id=account_id,
        subject="Une session de votre compte a été bloquée",
        text=(
            "Une session de votre compte Colloque a demandé trop d'éléments qui n'existent pas ; "
            f"elle est bloquée jusqu'à {mailing.when(until)}. Reconnectez-vous pour continuer. "
            "Si ce n'était pas vous, changez votre mot de passe et fermez vos autres sessions "
            "depuis la page de votre compte." + mailing.SIGNATURE
        ),
    )


def member_session_locked(to: str, until: datetime, *, account_id: UUID) -> MailMessage:
    return MailMessage(
        to=to,
        account_id=account_id,
        subject="Une session d'un membre de votre cabinet a été bloquée",
        text=(
            "Une session d'un membre de votre cabinet a demandé trop d'éléments qui n'existent "
            f"pas ; elle est bloquée jusqu'à {mailing.when(until)}. Le membre en est informé. "
            "Le journal d'audit du cabinet montre ce que cette session a fait." + mailing.SIGNATURE
        ),
    )


def probing_lock_notifier(*, key: bytes, inbox_url: str | None) -> OnLock:
    """What the probing guard calls when it locks a credential: queue the owner's notice and, for
    a member, one to each admin of the member's practices (the owner once, even if an admin)."""

    def notify(session: Session, principal: Principal, now: datetime, until: datetime) -> None:
        practices = list(principal.memberships)
        rows = session.execute(
            select(Account.account_id, Account.email).where(
                Account.email.is_not(None),
                (Account.account_id == principal.account_id)
                | Account.account_id.in_(
                    select(PracticeMember.account_id).where(
                        PracticeMember.practice_id.in_(practices),
                        PracticeMember.role == Role.ADMIN.value,
                    )
                ),
            )
        ).all()
        for account_id, email in rows:
            assert email is not None  # selected so
            make = session_locked if account_id == principal.account_id else member_session_locked
            message = make(email, until, account_id=account_id)
            enqueue_account_mail(
                session,
                message,
                at=now,
                kind=mailing.kind_of(message),
                key=key,
                inbox_url=inbox_url,
            )

    return notify
