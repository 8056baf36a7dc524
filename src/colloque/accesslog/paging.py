"""The paging cursor both views share: newest first, then by id, so that events of the same
microsecond neither repeat nor go missing between pages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID

from sqlalchemy import ColumnElement, and_, or_
from sqlalchemy.orm import InstrumentedAttribute

from colloque.errors import InvalidInput

MAX_PAGE = 100
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Cursor:
    """Where a page ends: rows strictly older than this (time, event, then patient) come next.
    ``subject_id`` orders the rows of one event that names several of the account's patients."""

    at: datetime
    event_id: UUID
    subject_id: UUID | None = None

    def encode(self) -> str:
        """Microseconds since the epoch (exact, and safe in a URL), then the ids."""
        micros = (self.at - _EPOCH) // timedelta(microseconds=1)
        tail = "" if self.subject_id is None else f"_{self.subject_id}"
        return f"{micros}_{self.event_id}{tail}"

    @classmethod
    def decode(cls, text: str, *, with_subject: bool) -> Cursor:
        parts = text.split("_")
        try:
            if len(parts) != (3 if with_subject else 2):
                raise ValueError(text)
            subject = UUID(parts[2]) if with_subject else None
            return cls(_EPOCH + timedelta(microseconds=int(parts[0])), UUID(parts[1]), subject)
        except (ValueError, OverflowError):
            raise InvalidInput("unknown paging cursor", field="before") from None

    def older(
        self,
        at: InstrumentedAttribute[datetime],
        event_id: InstrumentedAttribute[UUID],
        subject_id: InstrumentedAttribute[UUID] | None = None,
    ) -> ColumnElement[bool]:
        older_event = or_(at < self.at, and_(at == self.at, event_id < self.event_id))
        if subject_id is None or self.subject_id is None:
            return older_event
        return or_(
            older_event,
            and_(at == self.at, event_id == self.event_id, subject_id < self.subject_id),
        )
