"""The ten-year horizon of agenda instants and days (scheduling.domain.check_horizon)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from colloque.errors import InvalidInput
from colloque.scheduling.domain import HORIZON, check_horizon

NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "value",
    [
        NOW,
        NOW + HORIZON,
        NOW - HORIZON,
        (NOW + HORIZON).astimezone(timezone(timedelta(hours=14))),
        date(2036, 2, 28),
        date(2016, 3, 4),
    ],
)
def test_within_ten_years(value: datetime | date) -> None:
    check_horizon(value, now=NOW, field="starts_at")


@pytest.mark.parametrize(
    "value",
    [
        NOW + HORIZON + timedelta(microseconds=1),
        NOW - HORIZON - timedelta(microseconds=1),
        datetime(2200, 12, 31, 23, 59, tzinfo=timezone(timedelta(hours=-14))),
        datetime(2000, 1, 1, tzinfo=timezone(timedelta(hours=14))),
        date(2036, 3, 5),
        date(2000, 1, 1),
    ],
)
def test_beyond_ten_years(value: datetime | date) -> None:
    with pytest.raises(InvalidInput) as caught:
        check_horizon(value, now=NOW, field="first_day")
    assert caught.value.field == "first_day"


def test_a_naive_instant_is_refused_before_any_arithmetic() -> None:
    with pytest.raises(InvalidInput, match="offset") as caught:
        check_horizon(datetime(2026, 3, 2, 9, 0), now=NOW, field="starts_at")
    assert caught.value.field == "starts_at"
