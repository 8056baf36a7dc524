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

from sqlalchemy import CheckConstraint, Index, Integer, LargeBinary, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from colloque.storage.base import Base, ShardKind, shard
from colloque.storage.types import UTCDateTime

STATUSES = ("pending", "sent", "failed")
_STATUS_CHECK = "status IN ('pending', 'sent', 'failed')"


class OutboxMessage(Base):
    __tablename__ = "outbox_messages"
    __table_args__ = (
        CheckConstraint(_STATUS_CHECK, name="status"),
        Index("ix_outbox_pending", "status", "created_at"),
        Index("ix_outbox_due", "status", "due_at"),
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
    #: Kept for the rows queued before the patient was recorded; never read to choose a recipient.
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
    #: Reminders only (``delivery.reminders``): what the row reminds of, so that it is queued once
    #: (``reminder_day:<appointment>:<starts_at>``, ``reminder_sms:<person>:<local day>``).
    dedupe_key: Mapped[str | None] = mapped_column(String(120), nullable=True)


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
        {"info": shard(ShardKind.GLOBAL)},
    )

    mail_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
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
