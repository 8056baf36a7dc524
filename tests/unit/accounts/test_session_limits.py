"""The rules that end a session (docs/accounts.md, "Sessions"): pure, no database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from colloque.accounts.models import AccessToken
from colloque.accounts.sessions import (
    MEMBER_IDLE,
    MEMBER_LIFETIME,
    PATIENT_IDLE,
    PATIENT_LIFETIME,
    SessionKind,
    has_ended,
    place_of,
    session_limits,
)

OPENED = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
STAFF = (MEMBER_IDLE, MEMBER_LIFETIME)
PATIENT = (PATIENT_IDLE, PATIENT_LIFETIME)


@pytest.mark.parametrize(
    ("kind", "is_staff", "integration", "limits"),
    [
        (SessionKind.COOKIE, True, False, STAFF),
        (SessionKind.BEARER, True, False, STAFF),
        (SessionKind.COOKIE, False, False, PATIENT),
        (SessionKind.BEARER, False, False, PATIENT),
        # Only issued tokens can be integration tokens; a login session ignores the flag.
        (SessionKind.BEARER, True, True, STAFF),
        (SessionKind.ISSUED, True, False, STAFF),
        (SessionKind.ISSUED, True, True, None),
        (SessionKind.ISSUED, False, False, None),
        (SessionKind.ISSUED, False, True, None),
    ],
)
def test_limits(
    kind: SessionKind,
    is_staff: bool,
    integration: bool,
    limits: tuple[timedelta, timedelta] | None,
) -> None:
    assert session_limits(kind, is_staff=is_staff, integration=integration) == limits


def test_the_limits_are_those_of_docs_accounts() -> None:
    assert (timedelta(minutes=30), timedelta(hours=12)) == STAFF
    assert (timedelta(hours=24), timedelta(days=30)) == PATIENT


def _row(
    kind: SessionKind, *, integration: bool = False, last_seen: datetime | None = None
) -> AccessToken:
    return AccessToken(
        token_hash=bytes(32),
        account_id=uuid4(),
        created_at=OPENED,
        expires_at=OPENED + timedelta(days=90),
        kind=kind.value,
        integration=integration,
        last_seen_at=last_seen,
    )


def test_idle_counts_from_the_last_use_or_the_opening() -> None:
    issued = _row(SessionKind.ISSUED)
    assert not has_ended(issued, now=OPENED + MEMBER_IDLE - timedelta(seconds=1), is_staff=True)
    assert has_ended(issued, now=OPENED + MEMBER_IDLE, is_staff=True)
    used = _row(SessionKind.ISSUED, last_seen=OPENED + timedelta(hours=1))
    assert not has_ended(used, now=OPENED + timedelta(hours=1, minutes=29), is_staff=True)
    # The same token of a patient account only ends at its expiry.
    assert not has_ended(issued, now=OPENED + timedelta(days=89), is_staff=False)
    assert has_ended(issued, now=OPENED + timedelta(days=90), is_staff=False)


def test_a_staff_session_ends_after_its_lifetime_however_busy() -> None:
    busy = _row(SessionKind.BEARER, last_seen=OPENED + MEMBER_LIFETIME - timedelta(minutes=1))
    assert has_ended(busy, now=OPENED + MEMBER_LIFETIME, is_staff=True)
    assert not has_ended(busy, now=OPENED + MEMBER_LIFETIME, is_staff=False)


def test_an_integration_token_ends_at_its_expiry_only() -> None:
    token = _row(SessionKind.ISSUED, integration=True)
    assert not has_ended(token, now=OPENED + timedelta(days=89), is_staff=True)
    assert has_ended(token, now=OPENED + timedelta(days=90), is_staff=True)


@pytest.mark.parametrize(
    ("address", "place"),
    [
        ("203.0.113.7", "203.0.113.0/24"),
        ("2001:db8:1:2::5", "2001:db8:1::/48"),
        ("::ffff:198.51.100.9", "198.51.100.0/24"),
        ("testclient", None),
    ],
)
def test_place_is_the_audit_logs_prefix(address: str, place: str | None) -> None:
    assert place_of(address) == place
