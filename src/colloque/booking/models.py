"""Tables of appointments and their history.

Double booking is impossible at the database level. On PostgreSQL an exclusion constraint
(btree_gist, added by the migration) forbids two active rows of one agenda whose
``[starts_at, blocked_until)`` ranges overlap, and the busy ledger (``practitioner_busy``) holds
the same time per practitioner with its own exclusion constraint, so that one person is not booked
twice through two practices. On SQLite, write transactions are serialised (``BEGIN IMMEDIATE``)
and the overlap checks run inside them.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    PrimaryKeyConstraint,
    String,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql.expression import false, true

from colloque.storage.base import Base, ShardKind, shard
from colloque.storage.types import UTCDateTime

#: Statuses in which an appointment occupies its time.
ACTIVE_STATUSES = ("held", "booked")
ALL_STATUSES = (
    "held",
    "booked",
    "cancelled_by_patient",
    "cancelled_by_practice",
    "no_show",
    "done",
    "hold_lapsed",
)
SOURCES = ("online", "practice", "integration", "waitlist")


def _in(values: tuple[str, ...]) -> str:
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


class Appointment(Base):
    __tablename__ = "appointments"
    __table_args__ = (
        ForeignKeyConstraint(
            ["practice_id", "practitioner_id"],
            ["practice_practitioners.practice_id", "practice_practitioners.practitioner_id"],
        ),
        CheckConstraint(f"status IN {_in(ALL_STATUSES)}", name="status"),
        CheckConstraint(f"source IN {_in(SOURCES)}", name="source"),
        CheckConstraint("starts_at < ends_at AND ends_at <= blocked_until", name="times"),
        CheckConstraint(
            "(status = 'held') = (hold_expires_at IS NOT NULL)", name="hold_has_expiry"
        ),
        Index("ix_appointments_agenda_start", "practice_id", "practitioner_id", "starts_at"),
        Index("ix_appointments_patient_start", "patient_id", "starts_at"),
        # The reminder planner's two scans (delivery.reminders): one local day of booked
        # appointments, and the ones booked or moved since its last round.
        Index("ix_appointments_status_start", "status", "starts_at"),
        Index("ix_appointments_status_updated", "status", "updated_at"),
        # An incident report looks up the appointments an audit event names by id alone (a
        # patient's own list spans practices).
        Index("ix_appointments_appointment_id", "appointment_id"),
        {"info": shard(ShardKind.PRACTICE)},
    )

    practice_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    appointment_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    practitioner_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.patient_id"))
    #: Who made the booking: the patient's holder, a relative's holder, or a practice member.
    booked_by_account_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("accounts.account_id", ondelete="SET NULL"), nullable=True
    )
    #: Copied from the practitioner so that the anti-hoarding rule reads one index.
    specialty: Mapped[str] = mapped_column(String(40))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: ``ends_at`` plus the buffer in force when booked; the range that the constraint protects.
    blocked_until: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(24))
    source: Mapped[str] = mapped_column(String(16))
    cancel_reason: Mapped[str | None] = mapped_column(String(32), nullable=True)
    hold_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    #: The reminder policy: false when the visit type's practice setting says no reminders
    #: (``visit_types.reminders``), carried by the booking client because the visit type is not
    #: stored: it travels sealed with the visit reason (records.SealedItemRow, kind
    #: "visit_reason"); the duration is ends_at. docs/crypto.md says what this bit tells.
    reminders_wanted: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    #: A practice member forced this time outside the opening hours, and confirmed so.
    outside_hours: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class PractitionerBusy(Base):
    """The busy ledger: the time of one active appointment, keyed by its practitioner.

    A row exists exactly while its appointment is active (``ACTIVE_STATUSES``), with the same
    ``[starts_at, blocked_until)``; booking/ledger.py writes it in the transaction that changes
    the appointment. On PostgreSQL the migration adds ``ex_practitioner_busy_no_overlap``
    (practitioner_id WITH =, the range WITH &&): the constraint the per-practice one cannot be.
    No foreign key to the appointment: sharded by practitioner, it lives apart from the practice's
    rows (docs/scaling.md).
    """

    __tablename__ = "practitioner_busy"
    __table_args__ = (
        PrimaryKeyConstraint("practitioner_id", "appointment_id"),
        CheckConstraint("starts_at < blocked_until", name="period"),
        {"info": shard(ShardKind.PRACTITIONER)},
    )

    practitioner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("practitioners.practitioner_id"))
    appointment_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    #: Where the appointment lives (its key is (practice_id, appointment_id)).
    practice_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    blocked_until: Mapped[datetime] = mapped_column(UTCDateTime)


EVENT_KINDS = (
    "booked",
    "cancelled",
    "rescheduled",
    "marked_no_show",
    "marked_done",
    "offered",
    "offer_accepted",
    "offer_declined",
    "hold_lapsed",
)


class AppointmentEvent(Base):
    """One change in an appointment's life. Holds no free text: reasons are codes."""

    __tablename__ = "appointment_events"
    __table_args__ = (
        ForeignKeyConstraint(
            ["practice_id", "appointment_id"],
            ["appointments.practice_id", "appointments.appointment_id"],
        ),
        CheckConstraint(f"kind IN {_in(EVENT_KINDS)}", name="kind"),
        Index("ix_appointment_events_appointment", "practice_id", "appointment_id", "at"),
        {"info": shard(ShardKind.PRACTICE)},
    )

    practice_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    event_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    appointment_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    kind: Mapped[str] = mapped_column(String(20))
    actor_account_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    actor_role: Mapped[str] = mapped_column(String(16))
    previous_starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    new_starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    reason: Mapped[str | None] = mapped_column(String(32), nullable=True)
    #: A booking or move that a practice member forced outside the opening hours.
    outside_hours: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
