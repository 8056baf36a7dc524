"""Probing limits: defaults, environment overrides and the checks that refuse nonsense."""

from __future__ import annotations

from datetime import timedelta

import pytest

from colloque.authorization.probing import ProbingLimits, ProbingLocked


def test_defaults() -> None:
    limits = ProbingLimits()
    assert (limits.slow_after, limits.lock_after) == (10, 20)
    assert limits.window == timedelta(minutes=10)
    assert limits.lock_for == timedelta(minutes=15)
    assert limits.delay_seconds == 1.0
    assert ProbingLimits.from_env({}) == limits


def test_environment_overrides() -> None:
    limits = ProbingLimits.from_env(
        {
            "COLLOQUE_PROBING_SLOW_AFTER": "5",
            "COLLOQUE_PROBING_LOCK_AFTER": " 8 ",
            "COLLOQUE_PROBING_WINDOW_SECONDS": "120",
            "COLLOQUE_PROBING_LOCK_SECONDS": "3600",
            "COLLOQUE_PROBING_DELAY_SECONDS": "0.25",
            "COLLOQUE_UNRELATED": "x",
        }
    )
    assert limits == ProbingLimits(
        slow_after=5,
        lock_after=8,
        window=timedelta(minutes=2),
        lock_for=timedelta(hours=1),
        delay_seconds=0.25,
    )


def test_from_the_process_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLLOQUE_PROBING_LOCK_AFTER", "50")
    assert ProbingLimits.from_env().lock_after == 50


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"COLLOQUE_PROBING_SLOW_AFTER": "ten"}, "SLOW_AFTER must be an integer"),
        ({"COLLOQUE_PROBING_SLOW_AFTER": "2.5"}, "SLOW_AFTER must be an integer"),
        ({"COLLOQUE_PROBING_WINDOW_SECONDS": "soon"}, "WINDOW_SECONDS must be a number"),
        ({"COLLOQUE_PROBING_SLOW_AFTER": "0"}, "SLOW_AFTER must be at least 1"),
        ({"COLLOQUE_PROBING_LOCK_AFTER": "5"}, "LOCK_AFTER must not be below"),
        ({"COLLOQUE_PROBING_WINDOW_SECONDS": "0"}, "WINDOW_SECONDS must be positive"),
        ({"COLLOQUE_PROBING_LOCK_SECONDS": "-1"}, "LOCK_SECONDS must be positive"),
        ({"COLLOQUE_PROBING_DELAY_SECONDS": "-0.1"}, "DELAY_SECONDS must be 0 to 60"),
        ({"COLLOQUE_PROBING_DELAY_SECONDS": "61"}, "DELAY_SECONDS must be 0 to 60"),
    ],
)
def test_nonsense_is_refused_naming_the_variable(environ: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ProbingLimits.from_env(environ)


def test_the_lock_problem_says_when_to_retry_and_nothing_else() -> None:
    locked = ProbingLocked(retry_after=42)
    assert (locked.status, locked.code, locked.retry_after) == (429, "too-many-misses", 42)
    assert "42" not in locked.detail
