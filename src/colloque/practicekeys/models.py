"""Tables of practice key groups: the epochs of a practice's key and each member's wrap of them.

A practice has two groups, told apart by ``clinical``: the practice group (every member; its id is
the ``practice_id``) and the practitioners' group that notes are sealed to (its id is
``crypto.groups.clinical_group_id(practice_id)``). Only the newest epoch of a group is current;
older ones stay so that a member's client can still open item keys not re-wrapped yet.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    LargeBinary,
    Uuid,
)
from sqlalchemy import false as sa_false
from sqlalchemy.orm import Mapped, mapped_column

from colloque.storage.base import Base, ShardKind, shard
from colloque.storage.types import UTCDateTime


class PracticeKeyEpoch(Base):
    __tablename__ = "practice_key_epochs"
    __table_args__ = (
        CheckConstraint("epoch >= 1", name="epoch_positive"),
        {"info": shard(ShardKind.PRACTICE)},
    )

    practice_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("practices.practice_id", ondelete="CASCADE"), primary_key=True
    )
    #: The practitioners' group (notes) rather than the practice group.
    clinical: Mapped[bool] = mapped_column(
        Boolean, primary_key=True, default=False, server_default=sa_false()
    )
    epoch: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    public_key: Mapped[bytes] = mapped_column(LargeBinary(32))
    #: The binding's position in the key directory.
    leaf_index: Mapped[int] = mapped_column(BigInteger)
    #: The member whose client made this epoch (NULL once that account is deleted).
    created_by_account_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("accounts.account_id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: A member was removed since this epoch was made: the next client to act should rotate.
    rotation_due: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())
    #: In a practice that signs its memberships: the members this epoch was made for, as its
    #: group epoch statement's digest covers them (member id || u32 encryption epoch, sorted).
    members: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)


class PracticeKeyWrap(Base):
    """A group's private key of one epoch, sealed for one member's encryption key."""

    __tablename__ = "practice_key_wraps"
    __table_args__ = (
        ForeignKeyConstraint(
            ["practice_id", "clinical", "epoch"],
            [
                "practice_key_epochs.practice_id",
                "practice_key_epochs.clinical",
                "practice_key_epochs.epoch",
            ],
            ondelete="CASCADE",
        ),
        Index("ix_practice_key_wraps_account", "account_id"),
        {"info": shard(ShardKind.PRACTICE)},
    )

    practice_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    clinical: Mapped[bool] = mapped_column(
        Boolean, primary_key=True, default=False, server_default=sa_false()
    )
    epoch: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("accounts.account_id", ondelete="CASCADE"), primary_key=True
    )
    wrap: Mapped[bytes] = mapped_column(LargeBinary(512))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
