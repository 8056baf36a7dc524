"""Probing limits: defaults, the settings they come from, and the checks that refuse nonsense."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from colloque.authorization.probing import ProbingLimits, ProbingLocked
from colloque.config import Settings


def test_defaults() -> None:
    limits = ProbingLimits()
    assert (limits.slow_after, limits.lock_after) == (10, 20)
    assert limits.window == timedelta(minutes=10)
    assert limits.lock_for == timedelta(minutes=15)
    assert limits.delay_seconds == 1.0
    assert ProbingLimits.from_settings(Settings()) == limits


def test_the_limits_come_from_the_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "SLOW_AFTER": "5",
        "LOCK_AFTER": " 8 ",
        "WINDOW_SECONDS": "120",
        "LOCK_SECONDS": "3600",
        "DELAY_SECONDS": "0.25",
    }.items():
        monkeypatch.setenv(f"COLLOQUE_PROBING_{name}", value)
    assert ProbingLimits.from_settings(Settings()) == ProbingLimits(
        slow_after=5,
        lock_after=8,
        window=timedelta(minutes=2),
        lock_for=timedelta(hours=1),
        delay_seconds=0.25,
    )


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"COLLOQUE_PROBING_SLOW_AFTER": "ten"}, "probing_slow_after"),
        ({"COLLOQUE_PROBING_SLOW_AFTER": "2.5"}, "probing_slow_after"),
        ({"COLLOQUE_PROBING_WINDOW_SECONDS": "soon"}, "probing_window_seconds"),
        ({"COLLOQUE_PROBING_SLOW_AFTER": "0"}, "probing_slow_after"),
        ({"COLLOQUE_PROBING_LOCK_AFTER": "5"}, "LOCK_AFTER must not be below"),
        ({"COLLOQUE_PROBING_WINDOW_SECONDS": "0"}, "probing_window_seconds"),
        ({"COLLOQUE_PROBING_LOCK_SECONDS": "-1"}, "probing_lock_seconds"),
        ({"COLLOQUE_PROBING_DELAY_SECONDS": "-0.1"}, "probing_delay_seconds"),
        ({"COLLOQUE_PROBING_DELAY_SECONDS": "61"}, "probing_delay_seconds"),
    ],
)
def test_settings_refuse_nonsense_naming_the_variable(
    environ: dict[str, str], message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError, match=message):
        Settings()


@pytest.mark.parametrize(
    ("limits", "message"),
    [
        ({"slow_after": 0}, "SLOW_AFTER must be at least 1"),
        ({"lock_after": 5}, "LOCK_AFTER must not be below"),
        ({"window": timedelta(0)}, "WINDOW_SECONDS must be positive"),
        ({"lock_for": -timedelta(seconds=1)}, "LOCK_SECONDS must be positive"),
        ({"delay_seconds": -0.1}, "DELAY_SECONDS must be 0 to 60"),
        ({"delay_seconds": 61}, "DELAY_SECONDS must be 0 to 60"),
    ],
)
def test_limits_made_in_code_refuse_nonsense_too(limits: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ProbingLimits(**limits)


def test_the_lock_problem_says_when_to_retry_and_nothing_else() -> None:
    locked = ProbingLocked(retry_after=42)
    assert (locked.status, locked.code, locked.retry_after) == (429, "too-many-misses", 42)
    assert "42" not in locked.detail
