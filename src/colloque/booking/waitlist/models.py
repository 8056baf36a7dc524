"""Tables of waitlist entries and the offers made to them."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from colloque.storage.base import Base, ShardKind, shard
from colloque.storage.types import UTCDateTime

ENTRY_STATUSES = ("waiting", "offered", "booked", "withdrawn", "expired")
OFFER_OUTCOMES = ("pending", "accepted", "declined", "lapsed")


class WaitlistEntry(Base):
    __tablename__ = "waitlist_entries"
    __table_args__ = (
        ForeignKeyConstraint(
            ["practice_id", "practitioner_id"],
            ["practice_practitioners.practice_id", "practice_practitioners.practitioner_id"],
        ),
        CheckConstraint("first_day <= last_day", name="days"),
        CheckConstraint("duration_minutes > 0", name="duration_positive"),
        CheckConstraint(
            "status IN (" + ", ".join(f"'{s}'" for s in ENTRY_STATUSES) + ")", name="status"
        ),
        Index(
            "ix_waitlist_agenda_status", "practice_id", "practitioner_id", "status", "created_at"
        ),
        Index("ix_waitlist_patient", "patient_id"),
        {"info": shard(ShardKind.PRACTICE)},
    )

    practice_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    entry_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    practitioner_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    #: The length of visit wanted; which visit type it is stays on the patient's device.
    duration_minutes: Mapped[int] = mapped_column(Integer)
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.patient_id"))
    account_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("accounts.account_id", ondelete="SET NULL"), nullable=True
    )
    #: Local calendar days (practice time zone) the patient can come, inclusive.
    first_day: Mapped[date] = mapped_column(Date)
    last_day: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class WaitlistOffer(Base):
    """A freed slot held for one entry until ``expires_at``; the hold is a 'held' appointment."""

    __tablename__ = "waitlist_offers"
    __table_args__ = (
        ForeignKeyConstraint(
            ["practice_id", "entry_id"],
            ["waitlist_entries.practice_id", "waitlist_entries.entry_id"],
        ),
        ForeignKeyConstraint(
            ["practice_id", "appointment_id"],
            ["appointments.practice_id", "appointments.appointment_id"],
        ),
        CheckConstraint(
            "outcome IN (" + ", ".join(f"'{s}'" for s in OFFER_OUTCOMES) + ")", name="outcome"
        ),
        Index("ix_waitlist_offers_entry", "practice_id", "entry_id"),
        Index("ix_waitlist_offers_pending", "outcome", "expires_at"),
        {"info": shard(ShardKind.PRACTICE)},
    )

    practice_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    offer_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    entry_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    appointment_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    offered_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    outcome: Mapped[str] = mapped_column(String(10))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
