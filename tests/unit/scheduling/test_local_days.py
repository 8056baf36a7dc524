"""Local days as window bounds (scheduling.timeline.day_start, window_start, window_end): a day is
its first instant in the practice's zone, whatever DST does to it."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from colloque.scheduling.timeline import day_start, window_end, window_start


@pytest.mark.parametrize(
    ("zone", "day", "first"),
    [
        # Paris springs forward at 02:00 and falls back at 03:00: midnight is there both days.
        ("Europe/Paris", date(2026, 3, 29), "2026-03-29T00:00:00+01:00"),
        ("Europe/Paris", date(2026, 3, 30), "2026-03-30T00:00:00+02:00"),
        ("Europe/Paris", date(2026, 10, 25), "2026-10-25T00:00:00+02:00"),
        ("Europe/Paris", date(2026, 10, 26), "2026-10-26T00:00:00+01:00"),
        ("America/Montreal", date(2026, 3, 8), "2026-03-08T00:00:00-05:00"),
        ("America/Montreal", date(2026, 3, 9), "2026-03-09T00:00:00-04:00"),
        ("Pacific/Auckland", date(2026, 4, 5), "2026-04-05T00:00:00+13:00"),
        ("Pacific/Auckland", date(2026, 4, 6), "2026-04-06T00:00:00+12:00"),
        # Santiago and Havana spring forward at midnight: their day starts at 01:00.
        ("America/Santiago", date(2026, 9, 6), "2026-09-06T01:00:00-03:00"),
        ("America/Havana", date(2026, 3, 8), "2026-03-08T01:00:00-04:00"),
    ],
)
def test_a_day_starts_at_its_first_instant(zone: str, day: date, first: str) -> None:
    tz = ZoneInfo(zone)
    start = day_start(day, tz)
    assert start.astimezone(tz).isoformat() == first
    assert start.tzinfo is UTC
    # Nothing earlier reads as that day on the zone's clock.
    assert (start - timedelta(microseconds=1)).astimezone(tz).date() < day


@pytest.mark.parametrize(
    ("day", "hours"), [(date(2026, 3, 29), 23), (date(2026, 10, 25), 25), (date(2026, 6, 1), 24)]
)
def test_a_day_window_holds_the_whole_local_day(day: date, hours: int) -> None:
    paris = ZoneInfo("Europe/Paris")
    assert window_end(day, paris) - window_start(day, paris) == timedelta(hours=hours)
    assert window_end(day, paris) == day_start(day + timedelta(days=1), paris)


def test_an_instant_bound_is_kept_as_given() -> None:
    instant = datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    paris = ZoneInfo("Europe/Paris")
    assert window_start(instant, paris) is instant
    assert window_end(instant, paris) is instant
