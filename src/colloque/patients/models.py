"""The patients table: the people appointments are for."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import Boolean, CheckConstraint, Date, ForeignKey, Index, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql.expression import true

from colloque.storage.base import Base, ShardKind, shard
from colloque.storage.types import UTCDateTime

RELATIONSHIPS = ("self", "child", "parent", "partner", "sibling", "dependant", "other")


class Patient(Base):
    """A person who receives care. ``relationship`` is to the managing account's holder."""

    __tablename__ = "patients"
    __table_args__ = (
        CheckConstraint(
            "relationship IN (" + ", ".join(f"'{r}'" for r in RELATIONSHIPS) + ")",
            name="relationship",
        ),
        Index("ix_patients_holder", "holder_account_id"),
        {"info": shard(ShardKind.GLOBAL)},
    )

    patient_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    #: NULL once the holder deleted their account: the practices keep what the law requires.
    holder_account_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("accounts.account_id", ondelete="SET NULL"), nullable=True
    )
    relationship: Mapped[str] = mapped_column(String(12))
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    #: ``search_key`` of "first last", for the practice desk's look-up by name.
    name_key: Mapped[str] = mapped_column(String(220), default="", server_default="")
    #: NULL only for an account holder's own record made at sign-up, until they complete it.
    birth_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: Reminders to the contact the practice recorded, for a patient without an account (an
    #: account's own setting is ``accounts.reminders``): off by a reminder's unsubscribe link.
    reminders: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())


class PracticePatient(Base):
    """A patient known to a practice: booked there online, or registered by it.

    A practice member may book only for patients in this registry, so knowing a patient's id
    is not enough to book them, or to read their name back, from another practice.
    """

    __tablename__ = "practice_patients"
    __table_args__ = (
        Index("ix_practice_patients_phone", "practice_id", "phone"),
        {"info": shard(ShardKind.PRACTICE)},
    )

    practice_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("practices.practice_id", ondelete="CASCADE"), primary_key=True
    )
    patient_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("patients.patient_id"), primary_key=True
    )
    added_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: Contact details the practice keeps (administrative data, optional), for patients without
    #: an account above all. The phone is in E.164 (``+33612345678``), so that any writing of a
    #: number finds it; the email is lower-cased.
    phone: Mapped[str | None] = mapped_column(String(20), nullable=True)
    email: Mapped[str | None] = mapped_column(String(320), nullable=True)
