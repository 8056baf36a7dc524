"""Edges of the slot engine and of the agenda snapshot cache that the examples do not reach."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

from colloque.scheduling.domain import (
    Agenda,
    BookingRules,
    VisitTypeSpec,
    WeeklyBreak,
    WeeklyRange,
)
from colloque.scheduling.loading import (
    AgendaCache,
    LoadedAgenda,
    PracticeSettings,
    PractitionerInfo,
    minute_to_time,
)
from colloque.scheduling.slots import free_slots

PARIS = ZoneInfo("Europe/Paris")
VISIT = VisitTypeSpec(UUID(int=1), timedelta(minutes=15))
#: Clocks in Paris jump from 02:00 to 03:00 on this Sunday.
SPRING_FORWARD = date(2026, 3, 29)


def _sunday_night(breaks: tuple[WeeklyBreak, ...]) -> Agenda:
    return Agenda(
        timezone=PARIS,
        weekly=(WeeklyRange(6, time(1), time(4), frozenset({VISIT.id})),),
        breaks=breaks,
        overrides=(),
        rules=BookingRules(min_notice=timedelta(0)),
    )


def _starts(agenda: Agenda) -> list[datetime]:
    start = datetime.combine(SPRING_FORWARD, time(0), tzinfo=PARIS)
    return [
        slot.start
        for slot in free_slots(
            agenda,
            VISIT,
            window_start=start,
            window_end=start + timedelta(hours=23),
            now=start - timedelta(days=1),
            busy=[],
        )
    ]


def test_a_break_inside_the_skipped_hour_takes_no_time() -> None:
    """02:15-02:45 never happens on the night clocks spring forward: the break is empty."""
    with_break = _sunday_night((WeeklyBreak(6, time(2, 15), time(2, 45)),))
    assert _starts(with_break) == _starts(_sunday_night(()))
    assert len(_starts(with_break)) == 8  # 01:00-02:00 and 03:00-04:00, every quarter hour


def test_minute_to_time_end_of_day() -> None:
    assert minute_to_time(0) == time(0)
    assert minute_to_time(9 * 60 + 30) == time(9, 30)
    assert minute_to_time(24 * 60) == time(23, 59, 59, 999999)


def _snapshot(practitioner: int, version: int) -> LoadedAgenda:
    return LoadedAgenda(
        practice_id=UUID(int=100),
        practitioner_id=UUID(int=practitioner),
        version=version,
        practice=PracticeSettings(
            timezone="Europe/Paris",
            city_key="paris",
            cancel_cutoff_minutes=240,
            anti_hoarding_days=6,
            hold_minutes=30,
        ),
        practitioner=PractitionerInfo(specialty="general_practice", accepts_new_patients=True),
        visit_types={},
        agenda=_sunday_night(()),
        practitioner_practice_ids=(UUID(int=100),),
    )


def test_the_cache_keeps_the_newest_snapshot() -> None:
    cache = AgendaCache()
    key = ("db", UUID(int=100), UUID(int=1))
    cache.put("db", _snapshot(1, version=3))
    cache.put("db", _snapshot(1, version=2))  # a slower transaction read an older version
    assert cache.get(key, 3) == _snapshot(1, version=3)
    assert cache.get(key, 2) is None
    cache.put("db", _snapshot(1, version=4))
    assert cache.get(key, 4) == _snapshot(1, version=4)


def test_the_cache_forgets_the_least_recently_used() -> None:
    cache = AgendaCache(size=2)
    for practitioner in (1, 2):
        cache.put("db", _snapshot(practitioner, version=1))
    assert cache.get(("db", UUID(int=100), UUID(int=1)), 1) is not None  # 1 is now the freshest
    cache.put("db", _snapshot(3, version=1))
    assert cache.get(("db", UUID(int=100), UUID(int=2)), 1) is None
    assert cache.get(("db", UUID(int=100), UUID(int=1)), 1) is not None
    assert cache.get(("db", UUID(int=100), UUID(int=3)), 1) is not None
    cache.clear()
    assert cache.get(("db", UUID(int=100), UUID(int=3)), 1) is None
