"""Tables of accounts, access tokens and practice memberships."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from colloque.storage.base import Base, ShardKind, shard
from colloque.storage.types import UTCDateTime


class Account(Base):
    """Someone who signs in: a patient holder, a practice member, an operator, or several."""

    __tablename__ = "accounts"
    __table_args__ = ({"info": shard(ShardKind.GLOBAL)},)

    account_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    email: Mapped[str | None] = mapped_column(String(320), unique=True, nullable=True)
    display_name: Mapped[str] = mapped_column(String(200))
    is_operator: Mapped[bool] = mapped_column(Boolean, default=False)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AccessToken(Base):
    """A bearer token. Only its SHA-256 is stored, so a database leak yields no usable token."""

    __tablename__ = "access_tokens"
    __table_args__ = (
        Index("ix_access_tokens_account", "account_id"),
        {"info": shard(ShardKind.GLOBAL)},
    )

    token_hash: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("accounts.account_id", ondelete="CASCADE")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class PracticeMember(Base):
    """An account's role in one practice. One person may hold different roles in several."""

    __tablename__ = "practice_members"
    __table_args__ = (
        CheckConstraint("role IN ('practitioner', 'secretary', 'admin')", name="role"),
        CheckConstraint(
            "role <> 'practitioner' OR practitioner_id IS NOT NULL", name="practitioner_linked"
        ),
        Index("ix_practice_members_account", "account_id"),
        {"info": shard(ShardKind.PRACTICE)},
    )

    practice_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("practices.practice_id", ondelete="CASCADE"), primary_key=True
    )
    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("accounts.account_id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[str] = mapped_column(String(16))
    practitioner_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("practitioners.practitioner_id"), nullable=True
    )
