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

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, LargeBinary, String, Uuid
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
        # The account's inbox, newest first: on a distributed database each shard answers from
        # its part of the index (docs/scaling.md).
        Index("ix_outbox_recipient", "recipient_account_id", "created_at"),
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
