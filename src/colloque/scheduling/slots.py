"""The slot engine: when a visit type can be booked, and if not, why not.

Pure functions: no I/O and no clock reads (``now`` is a parameter). The reference for every rule
applied here is docs/scheduling.md.

Internally, instants are integers: microseconds since the Unix epoch, in UTC. Wall-clock values
from the agenda (weekly ranges, breaks, override times) are turned into instants once per local day,
with one rule: a wall time stands for the first instant at which the local clock reads that time or
a later one (see ``timeline.wall_instant``). Durations are then added to instants, never to local times.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

from colloque.scheduling.domain import (
    Agenda,
    Busy,
    OverrideKind,
    Slot,
    SlotProblem,
    VisitTypeSpec,
    WeeklyBreak,
    WeeklyRange,
)
from colloque.scheduling.timeline import (
    DAY_MICROS,
    END_OF_DAY,
    EPOCH,
    BusyIndex,
    Piece,
    aware_micros,
    fits_in,
    from_micros,
    local_date_of,
    micros,
    micros_after_midnight,
    naive_wall,
    subtract_pieces,
    wall_instant,
)

__all__ = ["OpenSegment", "check_slot", "first_clash", "free_slots", "open_segments"]

_DAY = timedelta(days=1)
_MIDNIGHT = time(0)


@dataclass(frozen=True, slots=True)
class OpenSegment:
    """A stretch of one local day during which the agenda is open to ``visit_type_ids``.

    ``start`` and ``end`` are UTC instants. Segments of overlapping ranges may overlap.
    """

    start: datetime
    end: datetime
    visit_type_ids: frozenset[UUID]


def free_slots(
    agenda: Agenda,
    visit_type: VisitTypeSpec,
    *,
    window_start: datetime,
    window_end: datetime,
    now: datetime,
    busy: Sequence[Busy],
    limit: int | None = None,
) -> list[Slot]:
    """The free slots of ``visit_type`` starting in [``window_start``, ``window_end``), by start.

    Stops after ``limit`` slots when it is given. Slot instants are UTC.
    """
    first = aware_micros(window_start, "window_start")
    stop = aware_micros(window_end, "window_end")
    now_us = aware_micros(now, "now")
    if limit is not None and limit < 0:
        raise ValueError("limit must not be negative")
    duration = _duration_us(visit_type)
    rules = agenda.rules
    first = max(first, now_us + micros(rules.min_notice))
    last = min(stop - 1, now_us + micros(rules.max_horizon))  # the latest start allowed, included
    taken = BusyIndex(busy)
    planner = _Planner(
        agenda,
        first_day=local_date_of(first, agenda.timezone),
        last_day=local_date_of(last, agenda.timezone),
    )
    slots: list[Slot] = []
    if limit == 0:
        return slots
    reach = duration + micros(rules.buffer_after)
    for day in planner.days():
        if planner.day_full(day, taken):
            continue
        starts: set[int] = set()
        for opening in planner.openings(day, visit_type.id):
            grid = opening.grid
            for piece_start, piece_end in opening.available:
                lo = bisect_left(grid, max(piece_start, first))
                hi = bisect_right(grid, min(piece_end - duration, last))
                starts.update(g for g in grid[lo:hi] if not taken.overlaps(g, g + reach))
        for start in sorted(starts):
            begins = from_micros(start)
            slots.append(Slot(start=begins, end=begins + visit_type.duration))
            if len(slots) == limit:
                return slots
    return slots


def check_slot(
    agenda: Agenda,
    visit_type: VisitTypeSpec,
    *,
    start: datetime,
    now: datetime,
    busy: Sequence[Busy],
    relaxed: bool = False,
) -> SlotProblem | None:
    """None when ``start`` is a bookable start for ``visit_type``, else the first problem found.

    ``relaxed`` is for the practice booking on a patient's behalf: alignment, notice, horizon and
    the daily cap are not checked; opening hours, absences, visit types and busy time still are.
    """
    at = aware_micros(start, "start")
    now_us = aware_micros(now, "now")
    duration = _duration_us(visit_type)
    rules = agenda.rules
    taken = BusyIndex(busy)
    date_ = local_date_of(at, agenda.timezone)
    planner = _Planner(agenda, first_day=date_, last_day=date_)
    day = planner.local_day(date_)
    openings = planner.openings(day)

    if not relaxed:
        on_grid = [o for o in openings if at in o.grid]
        if not on_grid and any(o.start <= at < o.end for o in openings):
            return SlotProblem.NOT_ALIGNED
        openings = on_grid
        if at < now_us + micros(rules.min_notice):
            return SlotProblem.TOO_SOON
        if at > now_us + micros(rules.max_horizon):
            return SlotProblem.TOO_FAR

    end = at + duration
    if not any(fits_in(o.open, at, end) for o in openings):
        return SlotProblem.CLOSED
    available = [o for o in openings if fits_in(o.available, at, end)]
    if not available:
        return SlotProblem.ABSENT
    if not any(visit_type.id in o.visit_type_ids for o in available):
        return SlotProblem.VISIT_TYPE_NOT_OFFERED
    if taken.overlaps(at, end + micros(rules.buffer_after)):
        return SlotProblem.TAKEN
    if not relaxed and planner.day_full(day, taken):
        return SlotProblem.DAY_FULL
    return None


def open_segments(agenda: Agenda, day: date) -> list[OpenSegment]:
    """When the agenda is open on local calendar ``day``: its ranges and extra openings, minus
    breaks, holidays and absences, by start. Booking rules and busy time play no part."""
    planner = _Planner(agenda, first_day=day, last_day=day)
    segments = [
        OpenSegment(start=from_micros(s), end=from_micros(e), visit_type_ids=opening.visit_type_ids)
        for opening in planner.openings(planner.local_day(day))
        for s, e in opening.available
    ]
    segments.sort(key=lambda segment: (segment.start, segment.end))
    return segments


def first_clash(
    agenda: Agenda, others: Sequence[Agenda], *, first_day: date, last_day: date
) -> date | None:
    """The first local day of ``first_day``..``last_day`` on which ``agenda`` is open while one
    of ``others`` is open too, or None. ``others`` are the same practitioner's agendas at other
    practices: one person, one place at a time. Open means as bookings see it, breaks, holidays
    and absences taken out, so that time off at one practice frees the practitioner for another.
    The other agendas' days are taken one day wider on each side, for practices in other zones.
    """
    theirs = sorted(
        piece
        for other in others
        for piece in _open_pieces(other, first_day=first_day - _DAY, last_day=last_day + _DAY)
    )
    # Merged into disjoint pieces, their ends ascend with their starts: one bisect per piece.
    merged: list[Piece] = []
    for start, end in theirs:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    ends = [end for _start, end in merged]
    planner = _Planner(agenda, first_day=first_day, last_day=last_day)
    for day in planner.days():
        for opening in planner.openings(day):
            for start, end in opening.available:
                index = bisect_right(ends, start)
                if index < len(merged) and merged[index][0] < end:
                    return day.day
    return None


def _open_pieces(agenda: Agenda, *, first_day: date, last_day: date) -> Iterator[Piece]:
    planner = _Planner(agenda, first_day=first_day, last_day=last_day)
    for day in planner.days():
        for opening in planner.openings(day):
            yield from opening.available


# -- Per-day planning ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _LocalDay:
    """A calendar day in ``tz``: from ``start``, its first instant, to ``end``, the next day's."""

    day: date
    tz: ZoneInfo
    start: int
    end: int

    def instant(self, wall: time) -> int:
        """The instant a wall time of this day stands for (see ``timeline.wall_instant``)."""
        if wall == END_OF_DAY:
            return self.end
        if self.end - self.start == DAY_MICROS:
            # A 24-hour day: the clock does not change today, so wall time is elapsed time.
            return self.start + micros_after_midnight(wall)
        return wall_instant(self.day, wall, self.tz)


@dataclass(frozen=True, slots=True)
class _Opening:
    """A weekly range or an extra opening, placed on one local day.

    ``open`` is the span minus breaks (nothing on a holiday); ``available`` is ``open`` minus
    absences. Both are sorted, disjoint ``(start, end)`` pieces. ``grid`` holds the candidate
    starts: the instants of the wall times ``start + k * step`` that exist, ascending.
    """

    visit_type_ids: frozenset[UUID]
    start: int
    end: int
    grid: Sequence[int]
    open: tuple[Piece, ...]
    available: tuple[Piece, ...]


class _Planner:
    """The agenda, indexed by weekday, with the overrides touching [first_day, last_day]."""

    def __init__(self, agenda: Agenda, *, first_day: date, last_day: date) -> None:
        _validate(agenda)
        self._first_day = first_day
        self._last_day = last_day
        self._tz = agenda.timezone
        self._step = micros(agenda.rules.slot_step)
        self._cap = agenda.rules.daily_cap
        self._weekly: list[list[WeeklyRange]] = [[] for _ in range(7)]
        for weekly in agenda.weekly:
            self._weekly[weekly.weekday].append(weekly)
        self._breaks: list[list[WeeklyBreak]] = [[] for _ in range(7)]
        for pause in agenda.breaks:
            self._breaks[pause.weekday].append(pause)
        self._overrides = [
            o for o in agenda.overrides if o.first_day <= last_day and first_day <= o.last_day
        ]
        self._day_starts: dict[date, int] = {}

    def days(self) -> Iterator[_LocalDay]:
        day = self._first_day
        while day <= self._last_day:
            yield self.local_day(day)
            day += _DAY

    def local_day(self, day: date) -> _LocalDay:
        return _LocalDay(day, self._tz, self._day_start(day), self._day_start(day + _DAY))

    def openings(self, day: _LocalDay, visit_type_id: UUID | None = None) -> list[_Opening]:
        """The openings of ``day``; only those offering ``visit_type_id`` when it is given."""
        closed = False
        absent_all_day = False
        absences: list[Piece] = []
        extras: list[tuple[time, time, frozenset[UUID]]] = []
        for override in self._overrides:
            if not override.first_day <= day.day <= override.last_day:
                continue
            if override.kind is OverrideKind.HOLIDAY:
                closed = True
            elif override.start is None or override.end is None:
                absent_all_day = True  # _validate refuses untimed extra openings
            elif override.kind is OverrideKind.ABSENCE:
                absences.append((day.instant(override.start), day.instant(override.end)))
            else:
                extras.append((override.start, override.end, override.visit_type_ids))
        absences.sort()

        weekday = day.day.weekday()
        ranges = [
            r
            for r in self._weekly[weekday]
            if visit_type_id is None or visit_type_id in r.visit_type_ids
        ]
        breaks: list[Piece] = []
        if ranges and not closed:
            breaks = sorted(
                (day.instant(b.start), day.instant(b.end)) for b in self._breaks[weekday]
            )

        openings = [self._opening(day, r.start, r.end, r.visit_type_ids, breaks) for r in ranges]
        for start, end, visit_type_ids in extras:
            if visit_type_id is None or visit_type_id in visit_type_ids:
                openings.append(self._opening(day, start, end, visit_type_ids))
        if closed or absent_all_day or absences:
            openings = [
                _Opening(
                    visit_type_ids=o.visit_type_ids,
                    start=o.start,
                    end=o.end,
                    grid=o.grid,
                    open=() if closed else o.open,
                    available=() if closed or absent_all_day else subtract_pieces(o.open, absences),
                )
                for o in openings
            ]
        return openings

    def day_full(self, day: _LocalDay, taken: BusyIndex) -> bool:
        """Whether the daily cap is reached on ``day``."""
        return self._cap is not None and taken.starts_between(day.start, day.end) >= self._cap

    def _day_start(self, day: date) -> int:
        start = self._day_starts.get(day)
        if start is None:
            start = self._day_starts[day] = wall_instant(day, _MIDNIGHT, self._tz)
        return start

    def _opening(
        self,
        day: _LocalDay,
        start: time,
        end: time,
        visit_type_ids: frozenset[UUID],
        breaks: Sequence[Piece] = (),
    ) -> _Opening:
        first, stop = day.instant(start), day.instant(end)
        grid: Sequence[int]
        if stop - first == micros_after_midnight(end) - micros_after_midnight(start):
            # No clock change inside: wall time and elapsed time advance together.
            grid = range(first, stop, self._step)
        else:
            grid = self._grid_across_change(day.day, start, end)
        pieces = subtract_pieces(((first, stop),), breaks) if first < stop else ()
        return _Opening(visit_type_ids, first, stop, grid, pieces, pieces)

    def _grid_across_change(self, day: date, start: time, end: time) -> list[int]:
        """The grid of an opening the clock changes in: wall times skipped by a spring-forward
        jump give no start; wall times repeated by a fall-back give their first occurrence."""
        step = timedelta(microseconds=self._step)
        wall = naive_wall(day, start)
        wall_end = naive_wall(day, end)
        grid: list[int] = []
        while wall < wall_end:
            instant = micros(wall.replace(tzinfo=self._tz) - EPOCH)  # fold=0: first occurrence
            if from_micros(instant).astimezone(self._tz).replace(tzinfo=None) == wall:
                grid.append(instant)
            wall += step  # naive datetimes: wall-clock arithmetic, which is what the grid is
        return grid


def _validate(agenda: Agenda) -> None:
    rules = agenda.rules
    if rules.slot_step <= timedelta(0):
        raise ValueError("slot_step must be positive")
    if rules.buffer_after < timedelta(0):
        raise ValueError("buffer_after must not be negative")
    if rules.daily_cap is not None and rules.daily_cap < 0:
        raise ValueError("daily_cap must not be negative")
    recurring: tuple[WeeklyRange | WeeklyBreak, ...] = (*agenda.weekly, *agenda.breaks)
    for item in recurring:
        if not 0 <= item.weekday <= 6:
            raise ValueError(f"weekday must be 0 (Monday) to 6, not {item.weekday}")
        if item.end <= item.start:
            raise ValueError(f"{item} must end after it starts")
    for override in agenda.overrides:
        if override.last_day < override.first_day:
            raise ValueError(f"{override} must not end before it starts")
        timed = override.start is not None, override.end is not None
        if timed[0] != timed[1]:
            raise ValueError(f"{override} needs both start and end, or neither")
        if override.start is not None and override.end is not None:
            if override.kind is OverrideKind.HOLIDAY:
                raise ValueError(f"{override}: a holiday closes whole days and has no times")
            if override.end <= override.start:
                raise ValueError(f"{override} must end after it starts")
        elif override.kind is OverrideKind.EXTRA_OPENING:
            raise ValueError(f"{override}: an extra opening needs start and end times")


def _duration_us(visit_type: VisitTypeSpec) -> int:
    if visit_type.duration <= timedelta(0):
        raise ValueError("a visit type's duration must be positive")
    return micros(visit_type.duration)
