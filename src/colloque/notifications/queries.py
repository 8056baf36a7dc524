"""Reads of the outbox for operations (one round trip each)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, union_all
from sqlalchemy.orm import Session

from colloque.notifications.models import AccountMail, OutboxMessage
from colloque.notifications.rendering import RENDERED_TEMPLATES


def oldest_pending_at(session: Session) -> datetime | None:
    """When the oldest message not yet sent was queued, appointment message or account mail.

    Only the templates the worker sends count (``RENDERED_TEMPLATES``): a row of a template no
    worker renders yet would otherwise age forever and hide a real backlog.
    """
    pending = union_all(
        select(func.min(OutboxMessage.created_at).label("at")).where(
            OutboxMessage.status == "pending",
            OutboxMessage.template.in_([t.value for t in RENDERED_TEMPLATES]),
        ),
        select(func.min(AccountMail.created_at).label("at")).where(AccountMail.status == "pending"),
    ).subquery()
    oldest: datetime | None = session.scalar(select(func.min(pending.c.at)))
    return oldest
