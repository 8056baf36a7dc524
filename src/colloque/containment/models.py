"""The containment tables: each credential's counters per window, its suspension, the decoys."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Float,
    Index,
    Integer,
    LargeBinary,
    String,
    Uuid,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from colloque.storage.base import Base, ShardKind, shard
from colloque.storage.types import UTCDateTime

SUSPENSION_REASONS = ("threshold", "canary")
CANARY_KINDS = ("patient", "appointment")


class CredentialWindow(Base):
    """What one credential read and changed in one practice: during its current window (an
    hour, aligned on the clock) and during its day (from its first counted event there), with
    sketches of the distinct persons and appointments of each (``containment.sketch``). One row
    per credential and practice, so that both are read and written together.
    Dropped by the upkeep once its day is long over."""

    __tablename__ = "containment_windows"
    __table_args__ = (
        Index("ix_containment_windows_day_start", "day_start"),
        {"info": shard(ShardKind.GLOBAL)},
    )

    credential_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    practice_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    window_start: Mapped[datetime] = mapped_column(UTCDateTime)
    #: The window's limit for the credential's role and the practice's size when its day began.
    point_limit: Mapped[float] = mapped_column(Float)
    points: Mapped[float] = mapped_column(Float, default=0.0)
    persons: Mapped[bytes] = mapped_column(LargeBinary)
    appointments: Mapped[bytes] = mapped_column(LargeBinary)
    changes: Mapped[int] = mapped_column(Integer, default=0)
    day_start: Mapped[datetime] = mapped_column(UTCDateTime)
    day_limit: Mapped[float] = mapped_column(Float)
    day_points: Mapped[float] = mapped_column(Float, default=0.0)
    day_persons: Mapped[bytes] = mapped_column(LargeBinary)
    day_appointments: Mapped[bytes] = mapped_column(LargeBinary)
    day_changes: Mapped[int] = mapped_column(Integer, default=0)
    #: Drawn afresh (at random) by every write: a write made from a copy of the row applies only
    #: if the row is still at the copy's revision (``containment.services``).
    revision: Mapped[int] = mapped_column(BigInteger, default=0, server_default=text("0"))


class CredentialSuspension(Base):
    """A credential suspended (its session or token ended), and the incident opened for it.
    Kept so that its next request is told why (``credential-suspended``), not just 401."""

    __tablename__ = "containment_suspensions"
    __table_args__ = (
        CheckConstraint(
            "reason IN (" + ", ".join(f"'{r}'" for r in SUSPENSION_REASONS) + ")", name="reason"
        ),
        {"info": shard(ShardKind.GLOBAL)},
    )

    credential_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    account_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    practice_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(String(16))
    incident_id: Mapped[uuid.UUID] = mapped_column(Uuid)


class Canary(Base):
    """A decoy patient or appointment (``containment.canaries``)."""

    __tablename__ = "containment_canaries"
    __table_args__ = (
        CheckConstraint("kind IN (" + ", ".join(f"'{k}'" for k in CANARY_KINDS) + ")", name="kind"),
        {"info": shard(ShardKind.PRACTICE)},
    )

    practice_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    object_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
