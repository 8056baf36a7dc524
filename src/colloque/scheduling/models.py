"""Tables of practices, practitioners and their agendas."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql.expression import true

from colloque.storage.base import Base, ShardKind, shard
from colloque.storage.types import UTCDateTime

ROLES_CHECK = "role IN ('practitioner', 'secretary', 'admin')"

MINUTES_PER_DAY = 24 * 60


class Practitioner(Base):
    """A person who sees patients. Not owned by one practice: they may work at several."""

    __tablename__ = "practitioners"
    __table_args__ = (
        CheckConstraint("length(first_name) > 0 AND length(last_name) > 0", name="named"),
        Index("ix_practitioners_name_key", "name_key"),
        Index("ix_practitioners_specialty", "specialty"),
        {"info": shard(ShardKind.REFERENCE)},
    )

    practitioner_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    title: Mapped[str] = mapped_column(String(20), default="")
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    #: ``search_key`` of "first last" and "last first", for name search.
    name_key: Mapped[str] = mapped_column(String(420))
    specialty: Mapped[str] = mapped_column(String(40))
    #: ISO 639-1 codes, comma separated and framed by commas (",fr,en,") for portable matching.
    languages: Mapped[str] = mapped_column(String(200), default=",fr,")
    accepts_new_patients: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Practice(Base):
    __tablename__ = "practices"
    __table_args__ = (
        CheckConstraint("latitude BETWEEN -90 AND 90", name="latitude_range"),
        CheckConstraint("longitude BETWEEN -180 AND 180", name="longitude_range"),
        CheckConstraint("cancel_cutoff_minutes >= 0", name="cutoff_positive"),
        CheckConstraint("anti_hoarding_days >= 0", name="hoarding_positive"),
        CheckConstraint("hold_minutes > 0", name="hold_positive"),
        Index("ix_practices_city_key", "city_key"),
        Index("ix_practices_postcode", "postcode"),
        Index("ix_practices_lat_lon", "latitude", "longitude"),
        {"info": shard(ShardKind.PRACTICE)},
    )

    practice_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(String(300))
    postcode: Mapped[str] = mapped_column(String(10))
    city: Mapped[str] = mapped_column(String(100))
    city_key: Mapped[str] = mapped_column(String(100))
    latitude: Mapped[float] = mapped_column(Float)
    longitude: Mapped[float] = mapped_column(Float)
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Paris")
    #: Patients may not cancel later than this before the start; the practice always may.
    cancel_cutoff_minutes: Mapped[int] = mapped_column(Integer, default=240)
    #: Minimum gap between two future appointments of one patient in one specialty.
    anti_hoarding_days: Mapped[int] = mapped_column(Integer, default=6)
    #: How long a freed slot is held for the waitlist entry it was offered to.
    hold_minutes: Mapped[int] = mapped_column(Integer, default=30)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class PracticePractitioner(Base):
    """A practitioner working at a practice, with the booking rules of that agenda."""

    __tablename__ = "practice_practitioners"
    __table_args__ = (
        CheckConstraint("slot_step_minutes BETWEEN 5 AND 240", name="step_range"),
        CheckConstraint("min_notice_minutes >= 0", name="notice_positive"),
        CheckConstraint("max_horizon_days BETWEEN 1 AND 730", name="horizon_range"),
        CheckConstraint("buffer_after_minutes BETWEEN 0 AND 240", name="buffer_range"),
        CheckConstraint("daily_cap IS NULL OR daily_cap > 0", name="cap_positive"),
        Index("ix_practice_practitioners_search", "specialty", "city_key"),
        {"info": shard(ShardKind.PRACTICE)},
    )

    practice_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("practices.practice_id", ondelete="CASCADE"), primary_key=True
    )
    practitioner_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("practitioners.practitioner_id"), primary_key=True
    )
    slot_step_minutes: Mapped[int] = mapped_column(Integer, default=15)
    min_notice_minutes: Mapped[int] = mapped_column(Integer, default=120)
    max_horizon_days: Mapped[int] = mapped_column(Integer, default=90)
    buffer_after_minutes: Mapped[int] = mapped_column(Integer, default=0)
    daily_cap: Mapped[int | None] = mapped_column(Integer, nullable=True)
    #: When the search cache of this agenda was last rebuilt; NULL means "rebuild me".
    slots_refreshed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    #: Copies of the practitioner's specialty and the practice's city key: search starts here.
    specialty: Mapped[str] = mapped_column(String(40))
    city_key: Mapped[str] = mapped_column(String(100))
    #: Bumped by every change to the agenda's definition, so processes can cache it safely.
    agenda_version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")


def _agenda_fk() -> ForeignKeyConstraint:
    return ForeignKeyConstraint(
        ["practice_id", "practitioner_id"],
        ["practice_practitioners.practice_id", "practice_practitioners.practitioner_id"],
        ondelete="CASCADE",
    )


class VisitType(Base):
    __tablename__ = "visit_types"
    __table_args__ = (
        _agenda_fk(),
        CheckConstraint("duration_minutes BETWEEN 5 AND 480", name="duration_range"),
        CheckConstraint("patient_kind IN ('new_only', 'known_only', 'any')", name="patient_kind"),
        CheckConstraint("mode IN ('in_person', 'video')", name="mode"),
        Index("ix_visit_types_agenda", "practice_id", "practitioner_id"),
        {"info": shard(ShardKind.PRACTICE)},
    )

    practice_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    visit_type_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    practitioner_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    label: Mapped[str] = mapped_column(String(120))
    duration_minutes: Mapped[int] = mapped_column(Integer)
    online_bookable: Mapped[bool] = mapped_column(Boolean, default=True)
    patient_kind: Mapped[str] = mapped_column(String(12), default="any")
    mode: Mapped[str] = mapped_column(String(12), default="in_person")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    #: Whether appointments of this type get reminders: the booking client copies it onto the
    #: appointment (``appointments.reminders_wanted``), since the server never learns the type.
    reminders: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())


class OpeningRange(Base):
    """A weekly opening range. Times are minutes after local midnight in the practice's zone."""

    __tablename__ = "opening_ranges"
    __table_args__ = (
        _agenda_fk(),
        CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday"),
        CheckConstraint(
            f"start_minute >= 0 AND end_minute <= {MINUTES_PER_DAY} AND start_minute < end_minute",
            name="times",
        ),
        Index("ix_opening_ranges_agenda", "practice_id", "practitioner_id"),
        {"info": shard(ShardKind.PRACTICE)},
    )

    practice_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    opening_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    practitioner_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    weekday: Mapped[int] = mapped_column(Integer)
    start_minute: Mapped[int] = mapped_column(Integer)
    end_minute: Mapped[int] = mapped_column(Integer)


class OpeningRangeVisitType(Base):
    __tablename__ = "opening_range_visit_types"
    __table_args__ = (
        ForeignKeyConstraint(
            ["practice_id", "opening_id"],
            ["opening_ranges.practice_id", "opening_ranges.opening_id"],
            ondelete="CASCADE",
        ),
        ForeignKeyConstraint(
            ["practice_id", "visit_type_id"],
            ["visit_types.practice_id", "visit_types.visit_type_id"],
            ondelete="CASCADE",
        ),
        {"info": shard(ShardKind.PRACTICE)},
    )

    practice_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    opening_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    visit_type_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)


class AgendaBreak(Base):
    __tablename__ = "agenda_breaks"
    __table_args__ = (
        _agenda_fk(),
        CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday"),
        CheckConstraint(
            f"start_minute >= 0 AND end_minute <= {MINUTES_PER_DAY} AND start_minute < end_minute",
            name="times",
        ),
        Index("ix_agenda_breaks_agenda", "practice_id", "practitioner_id"),
        {"info": shard(ShardKind.PRACTICE)},
    )

    practice_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    break_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    practitioner_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    weekday: Mapped[int] = mapped_column(Integer)
    start_minute: Mapped[int] = mapped_column(Integer)
    end_minute: Mapped[int] = mapped_column(Integer)


class AgendaOverride(Base):
    __tablename__ = "agenda_overrides"
    __table_args__ = (
        _agenda_fk(),
        CheckConstraint("kind IN ('absence', 'holiday', 'extra_opening')", name="kind"),
        CheckConstraint("first_day <= last_day", name="days"),
        CheckConstraint(
            "(start_minute IS NULL AND end_minute IS NULL) OR "
            f"(start_minute >= 0 AND end_minute <= {MINUTES_PER_DAY} AND start_minute < end_minute)",
            name="times",
        ),
        CheckConstraint(
            "kind <> 'extra_opening' OR start_minute IS NOT NULL", name="extra_opening_has_times"
        ),
        CheckConstraint("kind <> 'holiday' OR start_minute IS NULL", name="holiday_whole_days"),
        Index("ix_agenda_overrides_agenda", "practice_id", "practitioner_id", "last_day"),
        {"info": shard(ShardKind.PRACTICE)},
    )

    practice_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    override_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    practitioner_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    kind: Mapped[str] = mapped_column(String(16))
    first_day: Mapped[date] = mapped_column(Date)
    last_day: Mapped[date] = mapped_column(Date)
    start_minute: Mapped[int | None] = mapped_column(Integer, nullable=True)
    end_minute: Mapped[int | None] = mapped_column(Integer, nullable=True)


class OverrideVisitType(Base):
    __tablename__ = "agenda_override_visit_types"
    __table_args__ = (
        ForeignKeyConstraint(
            ["practice_id", "override_id"],
            ["agenda_overrides.practice_id", "agenda_overrides.override_id"],
            ondelete="CASCADE",
        ),
        ForeignKeyConstraint(
            ["practice_id", "visit_type_id"],
            ["visit_types.practice_id", "visit_types.visit_type_id"],
            ondelete="CASCADE",
        ),
        {"info": shard(ShardKind.PRACTICE)},
    )

    practice_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    override_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    visit_type_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)


class PracticeMember(Base):
    """An account's role in one practice. One person may hold different roles in several."""

    __tablename__ = "practice_members"
    __table_args__ = (
        CheckConstraint(ROLES_CHECK, name="role"),
        CheckConstraint(
            "role <> 'practitioner' OR practitioner_id IS NOT NULL", name="practitioner_linked"
        ),
        Index("ix_practice_members_account", "account_id"),
        {"info": shard(ShardKind.PRACTICE)},
    )

    practice_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("practices.practice_id", ondelete="CASCADE"), primary_key=True
    )
    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("accounts.account_id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[str] = mapped_column(String(16))
    practitioner_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("practitioners.practitioner_id"), nullable=True
    )


class SearchCell(Base):
    """A (specialty, city) cell of search, with a revision bumped by every change to what a search
    of it may show other than a booking: an agenda's cached slots rebuilt, an agenda added, its
    definition or its practice's settings changed. Search answers kept per process hold it
    (``search.kept.CellProof``). A cell without a row is at revision 0."""

    __tablename__ = "search_cells"
    __table_args__ = ({"info": shard(ShardKind.GLOBAL)},)

    specialty: Mapped[str] = mapped_column(String(40), primary_key=True)
    city_key: Mapped[str] = mapped_column(String(100), primary_key=True)
    revision: Mapped[int] = mapped_column(BigInteger, default=0)


class NextSlot(Base):
    """The precomputed next free slots that make search fast (see search/services.py): search
    never runs the slot engine. A booking deletes the slots it overlaps in its own transaction, so
    the cache never offers a taken slot for long; the search refresher rebuilds stale agendas."""

    __tablename__ = "next_slots"
    __table_args__ = (
        ForeignKeyConstraint(
            ["practice_id", "practitioner_id"],
            ["practice_practitioners.practice_id", "practice_practitioners.practitioner_id"],
            ondelete="CASCADE",
        ),
        ForeignKeyConstraint(
            ["practice_id", "visit_type_id"],
            ["visit_types.practice_id", "visit_types.visit_type_id"],
            ondelete="CASCADE",
        ),
        Index("ix_next_slots_agenda_bookable", "practice_id", "practitioner_id", "bookable_until"),
        Index("ix_next_slots_practitioner_start", "practitioner_id", "starts_at"),
        Index("ix_next_slots_specialty_city_start", "specialty", "city_key", "starts_at"),
        {"info": shard(ShardKind.PRACTICE)},
    )

    practice_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    practitioner_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    visit_type_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: ``ends_at`` plus the agenda's buffer: booking anything before this instant removes the slot.
    blocked_until: Mapped[datetime] = mapped_column(UTCDateTime)
    #: Copies of the agenda's specialty and city, so the common search walks one index in time order.
    specialty: Mapped[str] = mapped_column(String(40))
    city_key: Mapped[str] = mapped_column(String(100))
    #: The last instant this slot can be booked online (start minus the minimum notice).
    bookable_until: Mapped[datetime] = mapped_column(UTCDateTime)
