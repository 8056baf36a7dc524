"""Property tests of the slot engine around clock changes, against a brute-force oracle.

The oracle shares no code with the engine. It reads the local clock minute by minute over a few
days, and decides for every minute of the window, from the rules in docs/scheduling.md, whether a
slot starts then. Everything generated is on a 5-minute grid and every clock change of the zones
used happens on a whole minute, so looking at whole minutes is exhaustive.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from uuid import UUID
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from colloque.scheduling.domain import (
    Agenda,
    BookingRules,
    Busy,
    DateOverride,
    OverrideKind,
    SlotProblem,
    VisitTypeSpec,
    WeeklyBreak,
    WeeklyRange,
)
from colloque.scheduling.slots import check_slot, free_slots

MINUTE = timedelta(minutes=1)
VISIT_A = UUID(int=1)
VISIT_B = UUID(int=2)
ZONES = tuple(
    ZoneInfo(key)
    for key in ("Europe/Paris", "Australia/Sydney", "America/Santiago", "Australia/Lord_Howe")
)


def _clock_changes(tz: ZoneInfo) -> tuple[datetime, ...]:
    """The instants of 2025-2027 at which the zone's UTC offset changes, found by brute force."""
    changes = []
    day = datetime(2025, 1, 1, tzinfo=UTC)
    while day.year < 2028:
        offset = day.astimezone(tz).utcoffset()
        following = day + timedelta(days=1)
        if following.astimezone(tz).utcoffset() != offset:
            instant = day
            while instant.astimezone(tz).utcoffset() == offset:
                instant += MINUTE
            changes.append(instant)
        day = following
    return tuple(changes)


CLOCK_CHANGES = {tz.key: _clock_changes(tz) for tz in ZONES}


# -- The oracle --------------------------------------------------------------------------------


class LocalClock:
    """What the wall clock in ``tz`` reads at each minute of [start, end)."""

    def __init__(self, tz: ZoneInfo, start: datetime, end: datetime) -> None:
        self.start = start
        self.instants: list[datetime] = []
        self.readings: list[datetime] = []
        self.highest_so_far: list[datetime] = []
        instant = start
        while instant < end:
            reading = instant.astimezone(tz).replace(tzinfo=None)
            self.instants.append(instant)
            self.readings.append(reading)
            highest = self.highest_so_far[-1] if self.highest_so_far else reading
            self.highest_so_far.append(max(highest, reading))
            instant += MINUTE

    def reading(self, instant: datetime) -> datetime:
        return self.readings[(instant - self.start) // MINUTE]

    def first_reading(self, wall: datetime) -> datetime:
        """The first instant at which the clock reads ``wall`` or later."""
        return self.instants[bisect_left(self.highest_so_far, wall)]


@cache
def clock_around(tz: ZoneInfo, change: datetime) -> LocalClock:
    """The clock from 3 days before ``change`` to 3 days after: windows are within 30 hours of
    their change, and the local days they touch within 27 hours of their ends."""
    return LocalClock(tz, change - timedelta(days=3), change + timedelta(days=3))


Span = tuple[datetime, datetime]


@dataclass(frozen=True)
class OracleOpening:
    origin: datetime  # the wall-clock start: the grid's origin
    end: datetime  # the wall-clock end
    visit_type_ids: frozenset[UUID]
    start_instant: datetime
    end_instant: datetime
    breaks: tuple[Span, ...]  # empty for an extra opening
    absences: tuple[Span, ...]
    holiday: bool
    absent_all_day: bool

    def is_open(self, instant: datetime, *, absences: bool = True) -> bool:
        """Whether the opening is open at ``instant``; ``absences=False`` ignores absences."""
        if self.holiday or not self.start_instant <= instant < self.end_instant:
            return False
        if any(start <= instant < end for start, end in self.breaks):
            return False
        if not absences:
            return True
        return not self.absent_all_day and not any(s <= instant < e for s, e in self.absences)


class Oracle:
    def __init__(
        self,
        agenda: Agenda,
        visit_type: VisitTypeSpec,
        *,
        window_start: datetime,
        window_end: datetime,
        now: datetime,
        busy: list[Busy],
        clock: LocalClock,
    ) -> None:
        self.agenda = agenda
        self.visit_type = visit_type
        self.window_start = window_start.astimezone(UTC)
        self.window_end = window_end.astimezone(UTC)
        self.now = now.astimezone(UTC)
        self.busy = busy
        self.clock = clock
        self._openings: dict[date, list[OracleOpening]] = {}

    def openings(self, day: date) -> list[OracleOpening]:
        if day not in self._openings:
            self._openings[day] = self._place(day)
        return self._openings[day]

    def _place(self, day: date) -> list[OracleOpening]:
        def instant(wall: time) -> datetime:
            if wall == time.max:  # 24:00
                return self.clock.first_reading(datetime.combine(day + timedelta(days=1), time(0)))
            return self.clock.first_reading(datetime.combine(day, wall))

        def span(start: time, end: time) -> Span:
            return instant(start), instant(end)

        on_day = [o for o in self.agenda.overrides if o.first_day <= day <= o.last_day]
        absences = tuple(
            span(o.start, o.end)
            for o in on_day
            if o.kind is OverrideKind.ABSENCE and o.start is not None and o.end is not None
        )
        breaks = tuple(
            span(b.start, b.end) for b in self.agenda.breaks if b.weekday == day.weekday()
        )
        spans = [
            (r.start, r.end, r.visit_type_ids, breaks)
            for r in self.agenda.weekly
            if r.weekday == day.weekday()
        ]
        spans += [
            (o.start, o.end, o.visit_type_ids, ())
            for o in on_day
            if o.kind is OverrideKind.EXTRA_OPENING and o.start is not None and o.end is not None
        ]
        return [
            OracleOpening(
                origin=datetime.combine(day, start),
                end=datetime.combine(day, end),
                visit_type_ids=ids,
                start_instant=span(start, end)[0],
                end_instant=span(start, end)[1],
                breaks=cut,
                absences=absences,
                holiday=any(o.kind is OverrideKind.HOLIDAY for o in on_day),
                absent_all_day=any(
                    o.kind is OverrideKind.ABSENCE and o.start is None for o in on_day
                ),
            )
            for start, end, ids, cut in spans
        ]

    def on_grid(self, opening: OracleOpening, instant: datetime) -> bool:
        wall = self.clock.reading(instant)
        since_origin = wall - opening.origin
        return (
            since_origin >= timedelta(0)
            and wall < opening.end
            and since_origin % self.agenda.rules.slot_step == timedelta(0)
            # and not the second reading of a repeated wall time:
            and self.clock.first_reading(wall) == instant
        )

    def taken(self, start: datetime) -> bool:
        end = start + self.visit_type.duration + self.agenda.rules.buffer_after
        # In UTC: datetimes sharing a tzinfo compare by wall clock, even across a fall-back.
        return any(
            b.start < end and start < b.until and b.start.astimezone(UTC) < b.until.astimezone(UTC)
            for b in self.busy
        )

    def day_full(self, day: date) -> bool:
        cap = self.agenda.rules.daily_cap
        if cap is None:
            return False
        tz = self.agenda.timezone
        count = sum(
            1 for b in self.busy if b.counts_toward_cap and b.start.astimezone(tz).date() == day
        )
        return count >= cap

    def fits(self, opening: OracleOpening, start: datetime, *, absences: bool = True) -> bool:
        minutes = self.visit_type.duration // MINUTE
        return all(opening.is_open(start + i * MINUTE, absences=absences) for i in range(minutes))

    def problem(self, start: datetime, *, relaxed: bool = False) -> SlotProblem | None:
        """What ``check_slot`` should answer, from the table in docs/scheduling.md."""
        rules = self.agenda.rules
        day = self.clock.reading(start).date()
        openings = self.openings(day)
        if not relaxed:
            on_grid = [o for o in openings if self.on_grid(o, start)]
            if not on_grid and any(o.start_instant <= start < o.end_instant for o in openings):
                return SlotProblem.NOT_ALIGNED
            openings = on_grid
            if start < self.now + rules.min_notice:
                return SlotProblem.TOO_SOON
            if start > self.now + rules.max_horizon:
                return SlotProblem.TOO_FAR
        if not any(self.fits(o, start, absences=False) for o in openings):
            return SlotProblem.CLOSED
        if not any(self.fits(o, start) for o in openings):
            return SlotProblem.ABSENT
        if not any(self.fits(o, start) for o in openings if self.visit_type.id in o.visit_type_ids):
            return SlotProblem.VISIT_TYPE_NOT_OFFERED
        if self.taken(start):
            return SlotProblem.TAKEN
        if not relaxed and self.day_full(day):
            return SlotProblem.DAY_FULL
        return None

    def is_slot(self, start: datetime) -> bool:
        """Whether a slot starts at ``start``, straight from the definition of a free slot."""
        rules = self.agenda.rules
        day = self.clock.reading(start).date()
        return (
            any(
                self.on_grid(o, start) and self.fits(o, start)
                for o in self.openings(day)
                if self.visit_type.id in o.visit_type_ids
            )
            and not self.taken(start)
            and self.now + rules.min_notice <= start <= self.now + rules.max_horizon
            and not self.day_full(day)
        )

    def minutes(self) -> list[datetime]:
        """Every minute of the window."""
        count = (self.window_end - self.window_start) // MINUTE
        return [self.window_start + i * MINUTE for i in range(count)]

    def open_minutes(self) -> list[datetime]:
        """The minutes of the window at which an opening offering the visit type is open."""
        return [
            m
            for m in self.minutes()
            if any(
                o.is_open(m) and self.visit_type.id in o.visit_type_ids
                for o in self.openings(self.clock.reading(m).date())
            )
        ]

    def slot_starts(self) -> list[datetime]:
        return [minute for minute in self.minutes() if self.is_slot(minute)]


# -- Strategies ----------------------------------------------------------------------------------


def _minutes_to_time(minutes: int) -> time:
    return time(minutes // 60, minutes % 60)


def _five_minutes(low: int, high: int) -> st.SearchStrategy[timedelta]:
    """A multiple of 5 minutes from ``low`` to ``high`` minutes; shrinks toward ``low``."""
    return st.integers(low // 5, high // 5).map(lambda n: timedelta(minutes=5 * n))


@st.composite
def wall_spans(draw: st.DrawFn, around: int, longest: int) -> tuple[time, time]:
    """A wall-clock span that often starts or ends near ``around`` (minutes after midnight)."""
    length = longest - draw(st.integers(0, longest // 5 - 1)) * 5  # shrinks toward long spans
    where = draw(st.sampled_from(["starts before", "ends after", "anywhere"]))
    if where == "starts before":
        start = max(0, around - draw(st.integers(0, 6 * 12)) * 5)
    elif where == "ends after":
        start = max(0, around + draw(st.integers(0, 12)) * 5 - length)
    else:
        start = draw(st.integers(0, 286)) * 5
    start = min(start, 23 * 60 + 55)
    end = start + length
    return _minutes_to_time(start), time.max if end >= 24 * 60 else _minutes_to_time(end)


@dataclass(frozen=True)
class Case:
    clock_change: datetime
    agenda: Agenda
    visit_type: VisitTypeSpec
    window_start: datetime
    window_end: datetime
    now: datetime
    busy: list[Busy]

    def oracle(self) -> Oracle:
        return Oracle(
            self.agenda,
            self.visit_type,
            window_start=self.window_start,
            window_end=self.window_end,
            now=self.now,
            busy=self.busy,
            clock=clock_around(self.agenda.timezone, self.clock_change),
        )


@st.composite
def cases(draw: st.DrawFn) -> Case:
    """An agenda and a window of at most 60 hours around a clock change of 2025-2027."""
    tz = draw(st.sampled_from(ZONES))
    change = draw(st.sampled_from(CLOCK_CHANGES[tz.key]))
    window_start = change - timedelta(hours=12) - draw(_five_minutes(-12 * 60, 18 * 60))
    window_end = change + timedelta(hours=30) - draw(_five_minutes(0, 30 * 60 - 5))
    local_days = sorted(
        {
            (window_start + timedelta(hours=hours)).astimezone(tz).date()
            for hours in range((window_end - window_start) // timedelta(hours=1) + 1)
        }
        | {window_end.astimezone(tz).date()}
    )
    change_day = change.astimezone(tz).date()
    window_weekdays = st.sampled_from([change_day.weekday(), *(d.weekday() for d in local_days)])
    weekdays = st.one_of(window_weekdays, window_weekdays, window_weekdays, st.integers(0, 6))
    # The wall times at which the clock jumps from and to, and the middle of the skipped or
    # repeated time between them, in minutes after midnight.
    jumps_from = (change - MINUTE).astimezone(tz).replace(tzinfo=None) + MINUTE
    jumps_to = change.astimezone(tz).replace(tzinfo=None)
    middle = min(jumps_from, jumps_to) + abs(jumps_to - jumps_from) / 2
    around = st.sampled_from([t.hour * 60 + t.minute for t in (jumps_to, jumps_from, middle)])
    offered = st.sampled_from(
        [frozenset({VISIT_A, VISIT_B}), frozenset({VISIT_A}), frozenset({VISIT_B})]
    )

    weekly = [
        WeeklyRange(draw(weekdays), *draw(wall_spans(draw(around), longest=8 * 60)), draw(offered))
        for _ in range(draw(st.integers(1, 5)))
    ]
    breaks = [
        WeeklyBreak(draw(weekdays), *draw(wall_spans(draw(around), longest=90)))
        for _ in range(draw(st.integers(0, 3)))
    ]
    overrides = []
    for _ in range(draw(st.integers(0, 3))):
        kind = draw(st.sampled_from([OverrideKind.EXTRA_OPENING, *OverrideKind]))
        first_day = draw(st.sampled_from(local_days))
        last_day = first_day + timedelta(days=draw(st.integers(0, 1)))
        timed = kind is OverrideKind.EXTRA_OPENING or (
            kind is OverrideKind.ABSENCE and draw(st.booleans())
        )
        start: time | None = None
        end: time | None = None
        if timed:
            start, end = draw(wall_spans(draw(around), longest=5 * 60))
        overrides.append(DateOverride(kind, first_day, last_day, start, end, draw(offered)))
    rules = BookingRules(
        slot_step=timedelta(minutes=draw(st.sampled_from([15, 5, 10, 20, 30, 45, 60]))),
        min_notice=draw(st.sampled_from([timedelta(0), timedelta(minutes=30), timedelta(hours=3)])),
        max_horizon=timedelta(days=draw(st.sampled_from([90, 2, 90, 1]))),
        buffer_after=draw(_five_minutes(0, 15)),
        daily_cap=draw(st.sampled_from([None, 2, None, 4, 1, 0])),
    )
    duration = draw(st.one_of(_five_minutes(5, 45), _five_minutes(5, 120)))
    visit_type = VisitTypeSpec(draw(st.sampled_from([VISIT_A, VISIT_A, VISIT_B])), duration)

    busy = []
    span = (window_end - window_start) // MINUTE
    for _ in range(draw(st.integers(0, 7))):
        busy_start = draw(
            st.one_of(
                _five_minutes(-180, 180).map(lambda offset: change + offset),
                _five_minutes(-180, span + 180).map(lambda offset: window_start + offset),
            )
        )
        until = busy_start + draw(_five_minutes(0, 150))
        as_local = draw(st.booleans())  # busy instants may come in any zone
        busy.append(
            Busy(
                busy_start.astimezone(tz) if as_local else busy_start,
                until.astimezone(tz) if as_local else until,
                draw(st.booleans()),
            )
        )
    now = window_start - draw(st.one_of(_five_minutes(0, 24 * 60), _five_minutes(-24 * 60, 0)))
    return Case(
        clock_change=change,
        agenda=Agenda(tz, tuple(weekly), tuple(breaks), tuple(overrides), rules),
        visit_type=visit_type,
        window_start=window_start.astimezone(tz) if draw(st.booleans()) else window_start,
        window_end=window_end,
        now=now,
        busy=busy,
    )


def _free_slots(case: Case, limit: int | None = None) -> list[datetime]:
    slots = free_slots(
        case.agenda,
        case.visit_type,
        window_start=case.window_start,
        window_end=case.window_end,
        now=case.now,
        busy=case.busy,
        limit=limit,
    )
    for slot in slots:
        assert slot.start.tzinfo is UTC
        assert slot.end == slot.start + case.visit_type.duration
    return [slot.start for slot in slots]


# -- Properties ----------------------------------------------------------------------------------


@settings(max_examples=300, deadline=None, derandomize=True)
@given(cases())
def test_free_slots_are_exactly_the_oracle_slots(case: Case) -> None:
    assert _free_slots(case) == case.oracle().slot_starts()


@settings(max_examples=100, deadline=None, derandomize=True)
@given(cases(), st.integers(0, 5))
def test_limit_keeps_the_first_slots(case: Case, limit: int) -> None:
    assert _free_slots(case, limit) == _free_slots(case)[:limit]


@settings(max_examples=150, deadline=None, derandomize=True)
@given(cases())
def test_slots_are_sorted_in_the_window_free_and_on_existing_wall_times(case: Case) -> None:
    starts = _free_slots(case)
    tz = case.agenda.timezone
    reach = case.visit_type.duration + case.agenda.rules.buffer_after

    assert starts == sorted(set(starts))
    assert all(case.window_start <= start < case.window_end for start in starts)
    for start in starts:
        assert not any(
            b.start < start + reach and start < b.until and b.start != b.until for b in case.busy
        )
        local = start.astimezone(tz)
        assert local.fold == 0  # the first reading of a repeated wall time, never the second
        wall = local.replace(tzinfo=None)
        assert wall.replace(tzinfo=tz).astimezone(UTC) == start  # the wall time exists


@settings(max_examples=100, deadline=None, derandomize=True)
@given(cases(), st.data())
def test_check_slot_agrees_with_free_slots_and_names_the_problem(
    case: Case, data: st.DataObject
) -> None:
    oracle = case.oracle()
    slots = set(_free_slots(case))
    minutes = oracle.minutes()
    grid_minutes = [
        m
        for m in minutes
        if any(oracle.on_grid(o, m) for o in oracle.openings(oracle.clock.reading(m).date()))
    ]
    probes = set(grid_minutes[:60]) | set(
        data.draw(st.lists(st.sampled_from(minutes), max_size=20))
    )
    for probe in sorted(probes):
        problem = check_slot(
            case.agenda, case.visit_type, start=probe, now=case.now, busy=case.busy
        )
        assert (problem is None) == (probe in slots), (probe, problem)
        assert problem is oracle.problem(probe), probe


@settings(max_examples=120, deadline=None, derandomize=True)
@given(cases(), st.data())
def test_relaxed_check_slot_names_the_problem(case: Case, data: st.DataObject) -> None:
    oracle = case.oracle()
    minutes = oracle.open_minutes() or oracle.minutes()
    probes = data.draw(st.lists(st.sampled_from(minutes), min_size=1, max_size=40))
    for probe in probes:
        problem = check_slot(
            case.agenda, case.visit_type, start=probe, now=case.now, busy=case.busy, relaxed=True
        )
        assert problem is oracle.problem(probe, relaxed=True), probe
        assert problem not in (
            SlotProblem.NOT_ALIGNED,
            SlotProblem.TOO_SOON,
            SlotProblem.TOO_FAR,
            SlotProblem.DAY_FULL,
        )
