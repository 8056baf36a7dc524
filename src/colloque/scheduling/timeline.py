"""Instants as integers for the slot engine: microseconds since the Unix epoch, in UTC.

Pure, like the engine: wall times become instants once per local day (``wall_instant``, which
settles DST gaps and repeats), busy time is indexed for overlap and daily-cap queries
(``BusyIndex``), and open time is a sorted tuple of disjoint ``Piece`` intervals.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import TypeAlias
from zoneinfo import ZoneInfo

from colloque.scheduling.domain import Busy

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
DAY_MICROS = 86_400_000_000
END_OF_DAY = time.max  # as an end: 24:00, the first instant of the next day
_NEVER = 2**63  # a start later than any busy interval's

Piece: TypeAlias = tuple[int, int]  # [start, end) in microseconds since the epoch


def wall_instant(day: date, wall: time, tz: ZoneInfo) -> int:
    """The first instant at which the clock in ``tz`` reads ``day`` ``wall`` or later.

    For most wall times that is simply when the clock shows it. For a time repeated by a fall-back
    it is the first occurrence (fold=0). For a time skipped by a spring-forward jump it is the
    instant of the jump, e.g. 02:30 on a Paris spring-forward day gives 03:00 CEST.
    """
    naive = naive_wall(day, wall)
    local = naive.replace(tzinfo=tz)
    instant = micros(local - EPOCH)  # with fold=0
    if from_micros(instant).astimezone(tz).replace(tzinfo=None) == naive:
        return instant
    # A skipped time: the jump lies between its fold=1 and fold=0 readings. Before the jump the
    # clock reads less than ``naive``, from the jump onwards more. Search for the jump.
    low, high = sorted((micros(local.replace(fold=1) - EPOCH), instant))
    while high - low > 1:
        middle = (low + high) // 2
        if from_micros(middle).astimezone(tz).replace(tzinfo=None) >= naive:
            high = middle
        else:
            low = middle
    return high


def day_start(day: date, tz: ZoneInfo) -> datetime:
    """The first instant of the local day ``day`` in ``tz``: midnight, or the end of the jump when
    a spring-forward skips midnight (Santiago, Havana). In UTC, so that arithmetic on it is real
    time: Python adds to and subtracts datetimes of one ``ZoneInfo`` on the wall clock."""
    return from_micros(wall_instant(day, time(0), tz))


def window_start(value: datetime | date, tz: ZoneInfo) -> datetime:
    """The instant a window given by an instant or a local day starts at: the instant itself, or
    the first instant of the day."""
    if isinstance(value, datetime):
        return value
    return day_start(value, tz)


def window_end(value: datetime | date, tz: ZoneInfo) -> datetime:
    """The exclusive end of a window given by an instant or a local day: the instant itself, or
    the first instant of the day after (so that the whole day is in the window)."""
    if isinstance(value, datetime):
        return value
    return day_start(value + timedelta(days=1), tz)


class BusyIndex:
    """Busy time as sorted, disjoint pieces, plus the starts that count toward a daily cap.

    Busy intervals are sorted once, then taken in by start as queries reach them, so that a search
    stopping after a few days converts only the intervals of those days.
    """

    def __init__(self, busy: Sequence[Busy]) -> None:
        self._pending = sorted(busy, key=_checked_start)
        self._taken_in = 0
        self._next_start = self._start_of(0)
        self._starts: list[int] = []
        self._untils: list[int] = []
        self._cap_starts: list[int] = []

    def overlaps(self, start: int, end: int) -> bool:
        """Whether [start, end) overlaps busy time."""
        if self._next_start < end:
            self._take_in(end)
        i = bisect_right(self._untils, start)
        return i < len(self._starts) and self._starts[i] < end

    def starts_between(self, start: int, end: int) -> int:
        """How many cap-counting busy intervals start in [start, end)."""
        if self._next_start < end:
            self._take_in(end)
        return bisect_left(self._cap_starts, end) - bisect_left(self._cap_starts, start)

    def _take_in(self, bound: int) -> None:
        """Take in every busy interval starting before ``bound``."""
        while self._next_start < bound:
            start = self._next_start
            item = self._pending[self._taken_in]
            until = micros(item.until - EPOCH)
            if item.counts_toward_cap:
                self._cap_starts.append(start)
            if until > start:  # an empty interval blocks nothing
                if self._untils and start <= self._untils[-1]:
                    self._untils[-1] = max(self._untils[-1], until)
                else:
                    self._starts.append(start)
                    self._untils.append(until)
            self._taken_in += 1
            self._next_start = self._start_of(self._taken_in)

    def _start_of(self, index: int) -> int:
        if index == len(self._pending):
            return _NEVER
        return micros(self._pending[index].start - EPOCH)


def _checked_start(item: Busy) -> datetime:
    """The sort key of a busy interval: its start in UTC.

    Not ``item.start`` itself: Python compares two datetimes sharing a tzinfo by their wall-clock
    fields, so 02:05 CEST would sort after 02:00 CET, which comes 55 minutes later.
    """
    if item.start.tzinfo is None or item.until.tzinfo is None:
        raise ValueError(f"busy time must be timezone-aware, got {item!r}")
    start = item.start.astimezone(UTC)
    if item.until.astimezone(UTC) < start:
        raise ValueError(f"busy time must not end before it starts, got {item!r}")
    return start


def subtract_pieces(pieces: Sequence[Piece], holes: Sequence[Piece]) -> tuple[Piece, ...]:
    """``pieces`` (sorted, disjoint) minus ``holes``."""
    result = list(pieces)
    for hole_start, hole_end in holes:
        if hole_start >= hole_end:
            continue
        kept: list[Piece] = []
        for start, end in result:
            if hole_end <= start or end <= hole_start:
                kept.append((start, end))
                continue
            if start < hole_start:
                kept.append((start, hole_start))
            if hole_end < end:
                kept.append((hole_end, end))
        result = kept
    return tuple(result)


def fits_in(pieces: Sequence[Piece], start: int, end: int) -> bool:
    return any(s <= start and end <= e for s, e in pieces)


def aware_micros(value: datetime, name: str) -> int:
    if value.tzinfo is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, got {value!r}")
    return micros(value - EPOCH)


def naive_wall(day: date, wall: time) -> datetime:
    """``day`` at ``wall``, naive and with fold=0 whatever ``wall`` carries: a weekly wall time
    has no zone of its own and no second occurrence."""
    return datetime.combine(day, wall).replace(tzinfo=None, fold=0)


def local_date_of(instant: int, tz: ZoneInfo) -> date:
    return from_micros(instant).astimezone(tz).date()


def micros_after_midnight(wall: time) -> int:
    """Microseconds after midnight; ``time.max`` stands for 24:00."""
    if wall == END_OF_DAY:
        return DAY_MICROS
    return ((wall.hour * 60 + wall.minute) * 60 + wall.second) * 1_000_000 + wall.microsecond


def micros(delta: timedelta) -> int:
    return delta // _MICROSECOND


def from_micros(us: int) -> datetime:
    return EPOCH + timedelta(microseconds=us)
