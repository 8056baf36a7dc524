"""Tables of sealed items and the wraps of their keys.

An item is a visit reason (context: its appointment), a note (context: the patient), a message
(context: the conversation) or a document. The server keeps the envelope as it came and reads only
its clear header (kind, item id, context id, author), which it checks against the request.

Each item key is wrapped for its recipients: the patient's holder account (``recipient_kind`` "user")
and the practice's key group at one epoch ("practice"). After a rotation, members re-wrap item keys
for the new epoch; the old wraps are then deleted.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    LargeBinary,
    String,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from colloque.storage.base import Base, ShardKind, shard
from colloque.storage.types import UTCDateTime

ITEM_KINDS = ("visit_reason", "note", "message", "document")
RECIPIENT_KINDS = ("user", "practice")


def _in(values: tuple[str, ...]) -> str:
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


class SealedItemRow(Base):
    __tablename__ = "sealed_items"
    __table_args__ = (
        CheckConstraint(f"kind IN {_in(ITEM_KINDS)}", name="kind"),
        Index("ix_sealed_items_context", "practice_id", "context_id", "created_at"),
        Index("ix_sealed_items_patient", "practice_id", "patient_id", "created_at"),
        # The items an audit event names, looked up by id alone (an incident report).
        Index("ix_sealed_items_item_id", "item_id"),
        {"info": shard(ShardKind.PRACTICE)},
    )

    practice_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("practices.practice_id", ondelete="CASCADE"), primary_key=True
    )
    item_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.patient_id"))
    context_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    author_account_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("accounts.account_id", ondelete="SET NULL"), nullable=True
    )
    #: The whole envelope; for a document, its header only (the chunks live in blob storage).
    envelope: Mapped[bytes] = mapped_column(LargeBinary)
    #: Ciphertext size in bytes, envelope or stored document.
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ItemKeyWrap(Base):
    __tablename__ = "item_key_wraps"
    __table_args__ = (
        ForeignKeyConstraint(
            ["practice_id", "item_id"],
            ["sealed_items.practice_id", "sealed_items.item_id"],
            ondelete="CASCADE",
        ),
        CheckConstraint(f"recipient_kind IN {_in(RECIPIENT_KINDS)}", name="recipient_kind"),
        Index("ix_item_key_wraps_recipient", "practice_id", "recipient_kind", "epoch"),
        Index("ix_item_key_wraps_user", "recipient_id"),
        {"info": shard(ShardKind.PRACTICE)},
    )

    practice_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    item_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    recipient_kind: Mapped[str] = mapped_column(String(8), primary_key=True)
    #: An account id ("user") or the practice id ("practice").
    recipient_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    epoch: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    wrap: Mapped[bytes] = mapped_column(LargeBinary(512))
