"""Reads of the outbox for operations (one round trip each)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from colloque.notifications.models import OutboxMessage


def oldest_pending_at(session: Session) -> datetime | None:
    """When the oldest message not yet sent was queued (the ``ix_outbox_pending`` index)."""
    return session.scalar(
        select(func.min(OutboxMessage.created_at)).where(OutboxMessage.status == "pending")
    )
