"""Probing limits: defaults, the settings they come from, and the checks that refuse nonsense."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError
from starlette.requests import Request

from colloque.authorization.probing import (
    ProbingGuard,
    ProbingLimits,
    ProbingLocked,
    address_network,
    judge,
)
from colloque.config import Settings
from colloque.principal import ANONYMOUS, Principal
from colloque.server_keys import ServerKeys


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
        "NETWORK_FACTOR": "3",
    }.items():
        monkeypatch.setenv(f"COLLOQUE_PROBING_{name}", value)
    assert ProbingLimits.from_settings(Settings()) == ProbingLimits(
        slow_after=5,
        lock_after=8,
        window=timedelta(minutes=2),
        lock_for=timedelta(hours=1),
        delay_seconds=0.25,
        network_factor=3,
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
        ({"COLLOQUE_PROBING_NETWORK_FACTOR": "0"}, "probing_network_factor"),
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
        ({"network_factor": 0}, "NETWORK_FACTOR must be at least 1"),
    ],
)
def test_limits_made_in_code_refuse_nonsense_too(limits: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ProbingLimits(**limits)


def test_the_lock_problem_says_when_to_retry_and_nothing_else() -> None:
    locked = ProbingLocked(retry_after=42)
    assert (locked.status, locked.code, locked.retry_after) == (429, "too-many-misses", 42)
    assert "42" not in locked.detail


NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("misses", "locked_until", "expected"),
    [
        # misses, locked until -> slowed, starts slowing, locks, refused, remaining
        (1, None, (False, False, False, False, 9)),
        (9, None, (False, False, False, False, 1)),
        (10, None, (True, True, False, False, 0)),
        (11, None, (True, False, False, False, 0)),
        (20, None, (True, False, True, False, 0)),
        # Concurrent misses past the limit: refused, and locked once (by the 20th).
        (21, NOW + timedelta(minutes=1), (True, False, False, True, 0)),
        # A window longer than the lock: past the limit again after the lock, locked again.
        (21, NOW - timedelta(minutes=1), (True, False, True, True, 0)),
        # A lock still running refuses whatever the count.
        (3, NOW + timedelta(minutes=1), (False, False, False, True, 7)),
    ],
)
def test_the_rules_of_one_more_miss(
    misses: int, locked_until: datetime | None, expected: tuple[bool, bool, bool, bool, int]
) -> None:
    judged = judge(misses, locked_until, now=NOW, slow_after=10, lock_after=20)
    assert (
        judged.slowed,
        judged.starts_slowing,
        judged.locks,
        judged.refused,
        judged.remaining,
    ) == expected


def test_slowing_and_locking_at_once_is_one_lock() -> None:
    judged = judge(5, None, now=NOW, slow_after=5, lock_after=5)
    assert (judged.starts_slowing, judged.locks) == (False, True)


@pytest.mark.parametrize(
    ("address", "network"),
    [
        ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff::1", "2001:db8:1:2::/64"),
        ("192.0.2.77", "192.0.2.0/24"),
        ("::ffff:192.0.2.77", "192.0.2.0/24"),
        ("testclient", "testclient"),
    ],
)
def test_address_networks(address: str, network: str) -> None:
    assert address_network(address) == network


def test_counters_name_the_credential_or_the_address_and_the_network() -> None:
    guard = ProbingGuard.for_keys(ServerKeys.from_secret("one"), ProbingLimits())
    request = Request({"type": "http", "client": ("2001:db8::7", 1)})
    neighbour = Request({"type": "http", "client": ("2001:db8::8", 1)})
    credential = uuid.uuid4()
    signed_in = Principal(account_id=uuid.uuid4(), credential_id=credential)
    in_process = Principal(account_id=uuid.uuid4())
    first, network = guard.counters_for(request, signed_in)
    assert (first.key, first.factor) == (f"credential:{credential}", 1)
    assert network.factor == 5
    assert network.key.startswith("net:")
    assert "2001" not in network.key
    assert guard.counters_for(neighbour, None)[1] == network
    assert guard.counters_for(request, in_process)[0].key == f"account:{in_process.account_id}"
    anonymous = guard.counters_for(request, ANONYMOUS)[0]
    assert anonymous.key.startswith("client:")
    assert anonymous != guard.counters_for(neighbour, None)[0]
    other = ProbingGuard.for_keys(ServerKeys.from_secret("two"), ProbingLimits())
    assert other.counters_for(request, None)[0] != anonymous
    unknown = Request({"type": "http", "client": None})
    assert guard.counters_for(unknown, None)[0].key.startswith("client:")
