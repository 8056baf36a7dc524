"""The outbox. A message row is written in the same transaction as the change it announces.

It holds ids and a template name only. The sender renders the message from current data at
delivery time, so an outbox row never carries personal data.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, Index, Integer, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from colloque.storage.base import Base, ShardKind, shard
from colloque.storage.types import UTCDateTime


class OutboxMessage(Base):
    __tablename__ = "outbox_messages"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'sent', 'failed')", name="status"),
        Index("ix_outbox_pending", "status", "created_at"),
        {"info": shard(ShardKind.PRACTICE)},
    )

    practice_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    message_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    template: Mapped[str] = mapped_column(String(48))
    appointment_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    recipient_account_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    status: Mapped[str] = mapped_column(String(8), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
