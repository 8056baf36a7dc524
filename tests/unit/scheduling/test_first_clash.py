"""first_clash: an agenda's open time against the same practitioner's agendas elsewhere."""

from __future__ import annotations

from datetime import date, time
from uuid import UUID
from zoneinfo import ZoneInfo

from colloque.scheduling.domain import (
    Agenda,
    DateOverride,
    OverrideKind,
    WeeklyBreak,
    WeeklyRange,
)
from colloque.scheduling.slots import first_clash

PARIS = ZoneInfo("Europe/Paris")
REUNION = ZoneInfo("Indian/Reunion")  # UTC+4, three hours ahead of Paris in March
TYPES = frozenset({UUID(int=1)})
MONDAY = date(2026, 3, 9)


def _extra(
    day: date, start: time, end: time, zone: ZoneInfo = PARIS, last: date | None = None
) -> Agenda:
    override = DateOverride(OverrideKind.EXTRA_OPENING, day, last or day, start, end, TYPES)
    return Agenda(timezone=zone, weekly=(), overrides=(override,))


def _mornings(*weekdays: int, breaks: tuple[WeeklyBreak, ...] = ()) -> Agenda:
    return Agenda(
        timezone=PARIS,
        weekly=tuple(WeeklyRange(d, time(9), time(12), TYPES) for d in weekdays),
        breaks=breaks,
    )


def test_open_at_once_elsewhere_clashes_on_that_day() -> None:
    elsewhere = [_mornings(0, 1, 2, 3, 4)]
    assert (
        first_clash(
            _extra(MONDAY, time(11), time(13)), elsewhere, first_day=MONDAY, last_day=MONDAY
        )
        == MONDAY
    )
    # Touching is fine; the weekend is free; a week's range clashes on its first working day.
    assert (
        first_clash(
            _extra(MONDAY, time(12), time(14)), elsewhere, first_day=MONDAY, last_day=MONDAY
        )
        is None
    )
    saturday = date(2026, 3, 14)
    week = _extra(saturday, time(10), time(11), last=date(2026, 3, 20))
    assert first_clash(week, elsewhere, first_day=saturday, last_day=date(2026, 3, 20)) == date(
        2026, 3, 16
    )
    assert first_clash(week, [], first_day=saturday, last_day=saturday) is None


def test_open_time_elsewhere_is_merged_and_breaks_free_it() -> None:
    # Two practices whose hours overlap each other (as they may have been set before the rule):
    # their time is merged, and a piece after all of it is free.
    elsewhere = [_mornings(0), _extra(MONDAY, time(10), time(13))]
    assert (
        first_clash(
            _extra(MONDAY, time(12, 30), time(13, 30)), elsewhere, first_day=MONDAY, last_day=MONDAY
        )
        == MONDAY
    )
    assert (
        first_clash(
            _extra(MONDAY, time(13), time(14)), elsewhere, first_day=MONDAY, last_day=MONDAY
        )
        is None
    )
    pause = (WeeklyBreak(0, time(10), time(11)),)
    assert (
        first_clash(
            _extra(MONDAY, time(10), time(11)),
            [_mornings(0, breaks=pause)],
            first_day=MONDAY,
            last_day=MONDAY,
        )
        is None
    )


def test_instants_are_compared_across_zones() -> None:
    # 13:00-14:00 at La Réunion is 10:00-11:00 in Paris, inside the Paris mornings.
    elsewhere = [_mornings(0)]
    assert (
        first_clash(
            _extra(MONDAY, time(13), time(14), REUNION),
            elsewhere,
            first_day=MONDAY,
            last_day=MONDAY,
        )
        == MONDAY
    )
    assert (
        first_clash(
            _extra(MONDAY, time(16), time(17), REUNION),
            elsewhere,
            first_day=MONDAY,
            last_day=MONDAY,
        )
        is None
    )
