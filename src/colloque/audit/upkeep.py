"""Audit upkeep: full client addresses are forgotten once the retention period is over."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.orm import Session

from colloque.audit.models import AuditClientAddress


def forget_client_addresses(session: Session, *, now: datetime, retention: timedelta) -> int:
    """Delete the full addresses (and salts) of events older than ``retention``; the events keep
    the prefix and a commitment nobody can open any more. Returns how many were forgotten."""
    result = session.execute(
        delete(AuditClientAddress).where(AuditClientAddress.at < now - retention)
    )
    return int(getattr(result, "rowcount", 0))
