"""Tables of operator grants and of probing detection (missed lookups, slow-downs, locks)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from colloque.storage.base import Base, ShardKind, shard
from colloque.storage.types import UTCDateTime

#: The longest access a practice admin may grant an operator, in hours (also a CHECK constraint).
MAX_GRANT_HOURS = 72


class OperatorGrant(Base):
    """A practice admin lets one operator read this practice's agenda until ``expires_at``."""

    __tablename__ = "operator_grants"
    __table_args__ = (
        CheckConstraint("expires_at > granted_at", name="ends_after_start"),
        CheckConstraint(
            f"expires_at <= granted_at + interval '{MAX_GRANT_HOURS} hours'", name="at_most_72h"
        ).ddl_if(dialect="postgresql"),
        CheckConstraint(
            f"julianday(expires_at) <= julianday(granted_at, '+{MAX_GRANT_HOURS} hours')",
            name="at_most_72h",
        ).ddl_if(dialect="sqlite"),
        CheckConstraint("revoked_at IS NULL OR revoked_at >= granted_at", name="revoked_after"),
        Index("ix_operator_grants_operator", "operator_account_id", "expires_at"),
        {"info": shard(ShardKind.PRACTICE)},
    )

    practice_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("practices.practice_id", ondelete="CASCADE"), primary_key=True
    )
    grant_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    operator_account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("accounts.account_id", ondelete="CASCADE")
    )
    #: Who granted and who revoked: ids only, like the audit log, so nothing cascades from them.
    granted_by_account_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    revoked_by_account_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)


class ProbingCounter(Base):
    """The misses of one key (a credential, an anonymous address, an address prefix) in its
    current window, counted by one atomic upsert, and until when the key is locked."""

    __tablename__ = "probing_counters"
    __table_args__ = (
        CheckConstraint("misses >= 0", name="misses"),
        Index("ix_probing_counters_window", "window_started_at"),
        {"info": shard(ShardKind.GLOBAL)},
    )

    #: ``credential:<uuid>``, ``account:<uuid>`` (in-process), ``client:<keyed hash>`` or
    #: ``net:<keyed hash of the address prefix>``: never an address in clear.
    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    window_started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    misses: Mapped[int] = mapped_column(Integer)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class ProbingIncident(Base):
    """A principal was slowed down or locked out for collecting too many misses. Append-only:
    the audit event of the incident points here for the counts."""

    __tablename__ = "probing_incidents"
    __table_args__ = (
        CheckConstraint("kind IN ('slowed', 'locked')", name="kind"),
        CheckConstraint("(kind = 'locked') = (locked_until IS NOT NULL)", name="locked_has_end"),
        CheckConstraint("misses > 0 AND window_seconds > 0", name="counts"),
        Index("ix_probing_incidents_key_until", "principal_key", "locked_until"),
        Index("ix_probing_incidents_key_at", "principal_key", "at"),
        {"info": shard(ShardKind.GLOBAL)},
    )

    incident_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    principal_key: Mapped[str] = mapped_column(String(80))
    account_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    kind: Mapped[str] = mapped_column(String(8))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    misses: Mapped[int] = mapped_column(Integer)
    window_seconds: Mapped[int] = mapped_column(Integer)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
