"""The audit log's tables. Append-only: nothing cascades into them, and they hold ids, not data.

``audit_events`` and ``audit_event_subjects`` refuse UPDATE and DELETE (a trigger on both
databases, and on PostgreSQL the application's role is granted SELECT and INSERT only).
``audit_client_addresses`` is the one place where a full client address is kept, and only for the
retention period (``audit.addresses``); ``audit_pending`` is the sequencer's queue of events not yet
in a Merkle log.

The Merkle logs (docs/audit.md): ``audit_log_leaves`` holds every log's leaf hashes, one log per
practice and :data:`GLOBAL_LOG`; ``audit_log_heads`` is the log of heads (each time a log grew,
its new size and root), and ``audit_checkpoints`` the signed notes over that log of heads. All
three refuse UPDATE and DELETE like the events.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Index,
    LargeBinary,
    PrimaryKeyConstraint,
    String,
    Text,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from colloque.storage.base import Base, ShardKind, shard
from colloque.storage.types import UTCDateTime

#: The log of events without a practice (sign-ups, logins, an account's own reads).
GLOBAL_LOG = uuid.UUID(int=0)


class AuditEvent(Base):
    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_practice_at", "practice_id", "at"),
        Index("ix_audit_events_actor_at", "actor_account_id", "at"),
        Index("ix_audit_events_credential_at", "credential_id", "at"),
        Index("ix_audit_events_client_prefix_at", "client_prefix", "at"),
        Index("ix_audit_events_at", "at"),
        CheckConstraint("outcome IN ('allowed', 'denied')", name="outcome"),
        CheckConstraint("(outcome = 'denied') = (reason IS NOT NULL)", name="denied_has_reason"),
        {"info": shard(ShardKind.GLOBAL)},
    )

    event_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    action: Mapped[str] = mapped_column(String(64))
    actor_account_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    actor_role: Mapped[str] = mapped_column(String(16))
    #: The session or token (``principal.credential_id``); NULL in-process and for the anonymous.
    credential_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    interface: Mapped[str] = mapped_column(String(8), default="internal")
    request_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    client_prefix: Mapped[str | None] = mapped_column(String(64), nullable=True)
    client_commitment: Mapped[bytes | None] = mapped_column(LargeBinary(32), nullable=True)
    #: No foreign keys on purpose: the log outlives what it describes.
    practice_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    subject_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    object_kind: Mapped[str] = mapped_column(String(32))
    object_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    #: Every object the event touched or returned (``audit.objects.pack``). NULL only on events
    #: written before migration 0023, which named their main object alone.
    objects: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    outcome: Mapped[str] = mapped_column(String(8), default="allowed")
    #: Why it was denied (a problem type such as ``not-found``); NULL when allowed.
    reason: Mapped[str | None] = mapped_column(String(64), nullable=True)


class AuditEventSubject(Base):
    """One row per patient an event touched: what a patient's access history reads by index."""

    __tablename__ = "audit_event_subjects"
    __table_args__ = (
        # The access histories' order (a patient's events, newest first) is the primary key:
        # one index entry per row, on the hot path of every audited read (migration 0032).
        PrimaryKeyConstraint("subject_id", "at", "event_id", name="pk_audit_event_subjects"),
        {"info": shard(ShardKind.GLOBAL)},
    )

    event_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    subject_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class AuditClientAddress(Base):
    """A full client address and its commitment's salt, deleted once the retention is over."""

    __tablename__ = "audit_client_addresses"
    __table_args__ = (
        Index("ix_audit_client_addresses_at", "at"),
        Index("ix_audit_client_addresses_address", "address", "at"),
        {"info": shard(ShardKind.GLOBAL)},
    )

    event_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    address: Mapped[str] = mapped_column(String(64))
    salt: Mapped[bytes] = mapped_column(LargeBinary(16))


class AuditPending(Base):
    """An event committed but not yet integrated into its Merkle log. Writers only insert here,
    so they never wait on one another; the sequencer integrates and deletes."""

    __tablename__ = "audit_pending"
    __table_args__ = (
        Index("ix_audit_pending_log_queued", "log_id", "queued_at"),
        {"info": shard(ShardKind.GLOBAL)},
    )

    event_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    #: The practice's id, or :data:`GLOBAL_LOG`.
    log_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AuditLogLeaf(Base):
    """One event's place in its log. Each log (``log_id``: the practice, or :data:`GLOBAL_LOG`)
    is an RFC 9162 tree over these hashes in ``leaf_index`` order, so its rows can live on the
    practice's shard."""

    __tablename__ = "audit_log_leaves"
    __table_args__ = (
        CheckConstraint("leaf_index >= 0", name="index_positive"),
        {"info": shard(ShardKind.GLOBAL)},
    )

    log_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    leaf_index: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    event_id: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True)
    #: The hash of ``audit.leaf.event_leaf`` of the event's row (RFC 9162 leaf hash).
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class AuditLogHead(Base):
    """A leaf of the log of heads: ``log_id`` reached ``tree_size`` leaves with ``root_hash``."""

    __tablename__ = "audit_log_heads"
    __table_args__ = (
        CheckConstraint("head_index >= 0 AND tree_size > 0", name="sizes_positive"),
        Index("ix_audit_log_heads_log_size", "log_id", "tree_size", unique=True),
        {"info": shard(ShardKind.GLOBAL)},
    )

    head_index: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    log_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    tree_size: Mapped[int] = mapped_column(BigInteger)
    root_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    #: When the sequencer integrated up to this size (in the leaf, so signed with it).
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class AuditCheckpoint(Base):
    """A C2SP signed note over the first ``tree_size`` leaves of the log of heads."""

    __tablename__ = "audit_checkpoints"
    __table_args__ = ({"info": shard(ShardKind.GLOBAL)},)

    tree_size: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    root_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    signed_note: Mapped[str] = mapped_column(Text)
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AuditCosignature(Base):
    """A witness's cosignature line over the checkpoint of ``tree_size``, verified before it is
    stored: what the next submission to that witness proves consistency from."""

    __tablename__ = "audit_cosignatures"
    __table_args__ = ({"info": shard(ShardKind.GLOBAL)},)

    tree_size: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    witness: Mapped[str] = mapped_column(String(200), primary_key=True)
    line: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
