"""The pure parts of containment: the limits, the sketch, the decoys' ids, the notices."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest
from pydantic import ValidationError

from colloque.config import Settings
from colloque.containment import canaries, sketch
from colloque.containment.alerts import suspended_notice
from colloque.containment.canaries import first_canary, is_canary, new_canary_id
from colloque.containment.interfaces import CredentialSuspended
from colloque.containment.limits import ContainmentLimits, RoleLimit
from colloque.principal import Role

KEY = bytes(range(32))
NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def test_the_limits_follow_the_settings_and_the_practice_size() -> None:
    limits = ContainmentLimits.from_settings(
        Settings(containment_secretary_base=50, containment_window_seconds=600)
    )
    assert limits.roles[Role.SECRETARY] == RoleLimit(50, 0.04)
    assert limits.roles[Role.SECRETARY].points(2_000) == 130
    assert limits.window == timedelta(minutes=10)
    # The defaults: a desk of a practice of 2,000 patients may not read 200 persons an hour.
    assert ContainmentLimits().roles[Role.SECRETARY].points(2_000) == 200
    assert ContainmentLimits.from_settings(Settings()) == ContainmentLimits()
    # A busy agenda raises it: a desk reads its weeks.
    secretary = ContainmentLimits().roles[Role.SECRETARY]
    assert ContainmentLimits().limit(secretary, patients=2_000, weekly_appointments=60) == 200
    assert ContainmentLimits().limit(secretary, patients=300, weekly_appointments=150) == 375
    # The day allows three windows' worth, from its own settings too.
    assert ContainmentLimits().day_limit(200) == 600
    assert ContainmentLimits().day == timedelta(days=1)
    days = ContainmentLimits.from_settings(
        Settings(containment_day_seconds=43_200, containment_day_factor=2)
    )
    assert (days.day, days.day_limit(200)) == (timedelta(hours=12), 400)


def test_a_day_is_not_shorter_than_its_window() -> None:
    with pytest.raises(ValidationError, match="COLLOQUE_CONTAINMENT_DAY_SECONDS"):
        Settings(containment_window_seconds=7200, containment_day_seconds=3600)


def test_windows_are_aligned_and_far_reads_weigh_more() -> None:
    limits = ContainmentLimits()
    assert limits.window_start(NOW) == datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    assert limits.weight(None, NOW) == 1.0
    assert limits.weight((NOW, NOW + timedelta(days=7)), NOW) == 1.0
    assert limits.weight((NOW + timedelta(days=400), NOW + timedelta(days=407)), NOW) == 4.0
    assert limits.weight((NOW - timedelta(days=3650), NOW - timedelta(days=3643)), NOW) == 4.0


def test_the_sketch_counts_new_ids_once() -> None:
    rng = random.Random(1)
    ids = [UUID(int=rng.getrandbits(128)) for _ in range(200)]
    bits, new = sketch.add(sketch.empty(), ids[:150])
    assert len(bits) == sketch.SIZE
    bits, again = sketch.add(bits, ids)
    # Collisions only ever undercount, and by little (n^2 / 2m: about one in 200).
    assert 195 <= new + again <= 200
    assert sketch.add(bits, ids[:10])[1] == 0
    assert not sketch.any_new(bits, ids)
    assert sketch.any_new(sketch.empty(), ids[:1])


def test_decoy_ids_are_recognised_with_the_key_only() -> None:
    decoys = [new_canary_id(KEY) for _ in range(50)]
    assert all(decoy.version == 4 and is_canary(KEY, decoy) for decoy in decoys)
    assert not any(is_canary(bytes(32), decoy) for decoy in decoys)
    real = [UUID(int=random.Random(n).getrandbits(128)) for n in range(50)]
    assert not any(is_canary(KEY, object_id) for object_id in real)
    assert first_canary(KEY, real) is None
    assert first_canary(KEY, [*real, decoys[3]]) == decoys[3]


def test_verdicts_kept_per_key_never_hide_a_decoy() -> None:
    """The process keeps the ids it found real (a desk's reloads name them again): a decoy is
    never among them, under another key the verdicts start again, and the set stays bounded."""
    other_key = bytes(range(100, 132))
    decoy = new_canary_id(KEY)
    other_decoy = new_canary_id(other_key)
    rng = random.Random(7)
    real = [UUID(int=rng.getrandbits(128)) for _ in range(100)]
    for _ in range(3):
        assert first_canary(KEY, real) is None
        assert first_canary(KEY, [*real, decoy]) == decoy
    # The first key's decoy is an ordinary id under the other key: it is then remembered as
    # real for that key only.
    assert first_canary(other_key, [decoy, *real]) is None
    assert first_canary(other_key, [decoy, other_decoy]) == other_decoy
    assert first_canary(KEY, [decoy]) == decoy
    many = (UUID(int=rng.getrandbits(128)) for _ in range(canaries._REAL_MAX + 10))
    assert first_canary(KEY, many) is None
    assert len(canaries._real) <= canaries._REAL_MAX
    assert first_canary(KEY, [*real, decoy]) == decoy


def test_the_notices_name_no_person() -> None:
    account = UUID(int=7)
    notices = [
        suspended_notice("a@example.test", account_id=account, language=language, owner=owner)
        for language in ("fr", "en")
        for owner in (True, False)
    ]
    assert len({notice.text for notice in notices}) == 4
    assert all(notice.account_id == account for notice in notices)
    assert [notice.language for notice in notices] == ["fr", "fr", "en", "en"]
    error = CredentialSuspended()
    assert (error.status, error.code) == (401, "credential-suspended")
