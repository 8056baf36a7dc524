"""The precomputed next free slots that make search fast.

Search never runs the slot engine. Each agenda keeps its next few free slots per online visit
type in ``next_slots``. A booking deletes the slots it overlaps in the same transaction, so the
cache never offers a taken slot for long; a freed slot or an agenda change marks the agenda for a
rebuild, which the refresher does (and tops up the cache as time passes).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKeyConstraint, Index, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from colloque.storage.base import Base, ShardKind, shard
from colloque.storage.types import UTCDateTime


class NextSlot(Base):
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
