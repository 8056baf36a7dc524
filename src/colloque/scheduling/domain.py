"""Pure value types of an agenda. No I/O, no ORM: the slot engine and booking rules use these.

Instants are timezone-aware UTC datetimes. Wall-clock values (weekday, time of day, calendar
dates) are interpreted in the agenda's IANA time zone.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

from colloque.errors import InvalidInput

#: How far from now an agenda instant or day may lie: bookings, reschedules, agenda windows,
#: slot listings, waitlist entries, absences and other overrides. The API already holds every
#: instant and day to the years 2000-2200, so arithmetic near this horizon never overflows.
HORIZON = timedelta(days=3653)


def check_horizon(value: datetime | date, *, now: datetime, field: str) -> None:
    """Refuse an instant (or a day) more than :data:`HORIZON` (ten years) before or after now."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise InvalidInput(f"{field} must carry a UTC offset", field=field)
        if abs(value - now) > HORIZON:
            raise InvalidInput(f"{field} must be within ten years of now", field=field)
    elif abs(value - now.date()) > HORIZON:
        raise InvalidInput(f"{field} must be within ten years of today", field=field)


class OverrideKind(enum.StrEnum):
    ABSENCE = "absence"
    HOLIDAY = "holiday"
    EXTRA_OPENING = "extra_opening"


class PatientKind(enum.StrEnum):
    """Which patients a visit type is for, relative to the practitioner."""

    NEW_ONLY = "new_only"
    KNOWN_ONLY = "known_only"
    ANY = "any"


class VisitMode(enum.StrEnum):
    IN_PERSON = "in_person"
    VIDEO = "video"


@dataclass(frozen=True, slots=True)
class WeeklyRange:
    """A weekly opening range, e.g. Mondays 08:30-12:00, open to some visit types.

    ``weekday`` follows ``date.weekday()``: Monday is 0. ``end`` is exclusive and after ``start``.
    """

    weekday: int
    start: time
    end: time
    visit_type_ids: frozenset[UUID]


@dataclass(frozen=True, slots=True)
class WeeklyBreak:
    """A recurring pause (lunch, admin time) that removes time from any opening on that weekday."""

    weekday: int
    start: time
    end: time


@dataclass(frozen=True, slots=True)
class DateOverride:
    """A change to the weekly pattern on calendar dates ``first_day``..``last_day`` inclusive.

    - ABSENCE: the practitioner is away. Without times, whole days; with times, that part of each day.
    - HOLIDAY: the practice is closed for whole days.
    - EXTRA_OPENING: an additional opening on each of those days between ``start`` and ``end``,
      open to ``visit_type_ids``.
    """

    kind: OverrideKind
    first_day: date
    last_day: date
    start: time | None = None
    end: time | None = None
    visit_type_ids: frozenset[UUID] = field(default_factory=frozenset)


@dataclass(frozen=True, slots=True)
class BookingRules:
    slot_step: timedelta = timedelta(minutes=15)
    min_notice: timedelta = timedelta(hours=2)
    max_horizon: timedelta = timedelta(days=90)
    buffer_after: timedelta = timedelta(0)
    daily_cap: int | None = None


@dataclass(frozen=True, slots=True)
class Agenda:
    """Everything that shapes one practitioner's availability at one practice."""

    timezone: ZoneInfo
    weekly: tuple[WeeklyRange, ...]
    breaks: tuple[WeeklyBreak, ...] = ()
    overrides: tuple[DateOverride, ...] = ()
    rules: BookingRules = field(default_factory=BookingRules)


@dataclass(frozen=True, slots=True)
class VisitTypeSpec:
    id: UUID
    duration: timedelta


@dataclass(frozen=True, slots=True)
class VisitTypeInfo:
    """What the booking rules know of a visit type."""

    visit_type_id: UUID
    label: str
    duration_minutes: int
    online_bookable: bool
    patient_kind: PatientKind
    mode: VisitMode
    #: Whether its appointments get reminders (the booking client copies it onto them).
    reminders: bool = True

    def spec(self) -> VisitTypeSpec:
        return VisitTypeSpec(
            id=self.visit_type_id, duration=timedelta(minutes=self.duration_minutes)
        )


@dataclass(frozen=True, slots=True)
class Busy:
    """Time already taken: an appointment (or a hold) from ``start`` until ``until``.

    ``until`` already includes the buffer that was in force when it was booked.
    ``counts_toward_cap`` is False for time blocked by something other than an appointment.
    """

    start: datetime
    until: datetime
    counts_toward_cap: bool = True


@dataclass(frozen=True, slots=True, order=True)
class Slot:
    start: datetime
    end: datetime


class SlotProblem(enum.StrEnum):
    """Why an instant is not a bookable slot, in the order the checks are made."""

    NOT_ALIGNED = "not_aligned"
    TOO_SOON = "too_soon"
    TOO_FAR = "too_far"
    CLOSED = "closed"
    ABSENT = "absent"
    VISIT_TYPE_NOT_OFFERED = "visit_type_not_offered"
    TAKEN = "taken"
    DAY_FULL = "day_full"
