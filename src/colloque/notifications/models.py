"""The outbox. A message row is written in the same transaction as the change it announces.

Two tables, one per shard key (docs/scaling.md, docs/notifications.md):

* ``outbox_messages`` is owned by a practice: appointment messages, keyed ``practice_id`` first so
  that a row lives on the shard of the appointment it announces. It holds ids and a template name
  only. The worker renders the message from current data at delivery time, and finds the
  recipient from the appointment's own patient, so a row never carries personal data nor a
  recipient that something else chose.
* ``account_mail`` belongs to no practice (a sign-up code goes to an address with no account
  yet): a global table keyed by its own id. Its content is fixed at the request that decided it
  (a code exists only then), sealed at rest under a server key, and wiped once delivered or
  given up.

Both carry the same delivery state: ``status``, ``attempts``, when the next attempt is due
(``due_at``: retries, and later reminders, are rows due in the future), the lease of the worker
that claimed it (``leased_until``), when it went out and the last error's category.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Uuid,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql import text

from colloque.storage.base import Base, ShardKind, shard
from colloque.storage.types import UTCDateTime

STATUSES = ("pending", "held", "sent", "failed")
#: ``held``: waiting for a practice admin's release or discard (the mass-change breaker,
#: ``notifications.breaker``). Account mail is never held.
_MESSAGE_STATUS_CHECK = "status IN ('pending', 'held', 'sent', 'failed')"
_STATUS_CHECK = "status IN ('pending', 'sent', 'failed')"
PAUSE_STATUSES = ("open", "released", "discarded")


class OutboxMessage(Base):
    __tablename__ = "outbox_messages"
    __table_args__ = (
        CheckConstraint(_MESSAGE_STATUS_CHECK, name="status"),
        Index("ix_outbox_pending", "status", "created_at"),
        Index("ix_outbox_due", "status", "due_at"),
        # The account's inbox, newest first: on a distributed database each shard answers from
        # its part of the index (docs/scaling.md).
        Index("ix_outbox_recipient", "recipient_account_id", "created_at"),
        # The breaker's counts: a practice's recent messages, and one account's.
        Index("ix_outbox_practice_created", "practice_id", "created_at"),
        Index("ix_outbox_caused_by", "caused_by", "created_at"),
        Index("ix_outbox_pause", "practice_id", "pause_id"),
        # The planner queues a reminder once: its key names what it reminds of. Led by the key so
        # that the SMS of one person's day is found whatever practice queued it.
        Index("ux_outbox_dedupe", "dedupe_key", "practice_id", unique=True),
        {"info": shard(ShardKind.PRACTICE)},
    )

    practice_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    message_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    template: Mapped[str] = mapped_column(String(48))
    appointment_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    #: The account whose address the message went to, written by the worker when it sends (the
    #: account's inbox lists it). Never read to choose a recipient: that is found from the patient.
    recipient_account_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    #: The patient the message is about: the recipient is their holder account, or the contact
    #: the practice recorded for them. For appointment messages it must be the appointment's.
    patient_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    #: The appointment event announced (the times before and after a move, who cancelled).
    event_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    status: Mapped[str] = mapped_column(String(8), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    leased_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    #: A category (``smtp_refused``, ``no_contact``...), never a server's reply: replies can quote
    #: the address.
    last_error: Mapped[str | None] = mapped_column(String(48), nullable=True)
    #: The account whose change queued the message; NULL for the system (and rows older than the
    #: breaker). The mass-change breaker counts per practice and per account.
    caused_by: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    #: Confirmed by a practice admin who was shown how many messages it makes (an absence): such
    #: rows are never counted nor held by the breaker.
    approved: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    #: The breaker's pause that held it (kept after a release, so that it is not counted again).
    pause_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    #: Reminders only (``delivery.reminders``): what the row reminds of, so that it is queued once
    #: (``reminder_day:<appointment>:<starts_at>``, ``reminder_sms:<person>:<local day>``).
    dedupe_key: Mapped[str | None] = mapped_column(String(120), nullable=True)


class OutboxPause(Base):
    """The mass-change breaker tripped: a practice's messages (or one account's messages in it)
    are held until an admin releases or discards them. At most one open pause per practice and
    scope (the partial unique index), so that concurrent trips join one pause."""

    __tablename__ = "outbox_pauses"
    __table_args__ = (
        CheckConstraint("status IN ('open', 'released', 'discarded')", name="status"),
        Index(
            "ix_outbox_pauses_open",
            "practice_id",
            "scope_key",
            unique=True,
            sqlite_where=text("status = 'open'"),
            postgresql_where=text("status = 'open'"),
        ),
        {"info": shard(ShardKind.PRACTICE)},
    )

    practice_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    pause_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    #: The account whose changes tripped it, or NULL when the practice as a whole did.
    principal_account_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    #: ``practice`` or the account id: what the open-pause index is unique on (NULLs never are).
    scope_key: Mapped[str] = mapped_column(String(36))
    status: Mapped[str] = mapped_column(String(10), default="open")
    tripped_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: When its admins were mailed (once per pause, by the worker).
    alerted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    resolved_by: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    #: How many messages the release sent on or the discard dropped.
    resolved_count: Mapped[int | None] = mapped_column(Integer, nullable=True)


class ReminderPlanning(Base):
    """Up to when the reminder planner has looked: each round plans the moments since."""

    __tablename__ = "reminder_planning"
    __table_args__ = ({"info": shard(ShardKind.GLOBAL)},)

    name: Mapped[str] = mapped_column(String(16), primary_key=True)
    planned_until: Mapped[datetime] = mapped_column(UTCDateTime)


class AccountMail(Base):
    __tablename__ = "account_mail"
    __table_args__ = (
        CheckConstraint(_STATUS_CHECK, name="status"),
        Index("ix_account_mail_due", "status", "due_at"),
        Index("ix_account_mail_account", "account_id", "created_at"),
        {"info": shard(ShardKind.GLOBAL)},
    )

    mail_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: The existing account the notice is about, whose inbox lists it; NULL for mail to an address
    #: without an account (a sign-up code, an invitation).
    account_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("accounts.account_id", ondelete="SET NULL"), nullable=True
    )
    #: What kind of notice (its subject line's key), for counts: never its content.
    kind: Mapped[str] = mapped_column(String(48))
    #: The address, subject and text, sealed under the server's outbox key (``crypto``);
    #: NULL once sent or given up.
    sealed: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    status: Mapped[str] = mapped_column(String(8), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    leased_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_error: Mapped[str | None] = mapped_column(String(48), nullable=True)
