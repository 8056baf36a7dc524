"""Mass changes need a confirmation: past the threshold of cancellations and moves by one
credential in the window, a member re-authenticates (the count shown), then carries on."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient

from colloque.accounts.confirmations import confirmed_since
from colloque.accounts.sessions import REAUTH_WINDOW, hash_token, mark_reauthenticated
from colloque.api.app import create_app
from colloque.booking.rules import Source
from colloque.clock import SettableClock
from colloque.config import Settings
from colloque.storage.engine import Database
from tests.factories import book, build_world, register_at_practice
from tests.functional.authorization.conftest import auth

MONDAY_0900 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def test_past_the_threshold_a_member_confirms_then_carries_on(
    sqlite_db: Database, clock: SettableClock
) -> None:
    db = sqlite_db  # the counter's row lock is the throttles' (tests/functional/accounts)
    world = build_world(db, clock)
    register_at_practice(db, clock, world, world.holder_patient_id)
    settings = Settings(run_refresher=False, confirm_changes_after=3)
    app = create_app(settings, database=db, clock=clock)
    booked = [
        book(
            db,
            clock,
            world,
            MONDAY_0900 + timedelta(weeks=n),  # a week apart: one patient's
            person=world.secretary,
            source=Source.PRACTICE,
        )
        for n in range(7)
    ]
    base = f"/api/v1/practices/{world.practice_id}/appointments/"
    desk = auth(world.secretary)

    def cancel(n: int) -> int:
        answer = client.post(
            f"{base}{booked[n].appointment_id}/cancel",
            json={"reason": "practice_closed"},
            headers=desk,
        )
        return answer.status_code

    with TestClient(app) as client:
        assert [cancel(n) for n in range(3)] == [200, 200, 200]
        refused = client.post(
            f"{base}{booked[3].appointment_id}/cancel",
            json={"reason": "practice_closed"},
            headers=desk,
        )
        assert refused.status_code == 403
        assert refused.headers["content-type"] == "application/problem+json"
        problem = refused.json()
        assert problem["type"].endswith("/mass-change-unconfirmed")
        assert (problem["count"], problem["window_seconds"]) == (3, 600)
        # A move counts the same; the refusal did not count (its transaction rolled back).
        moved = client.post(
            f"{base}{booked[3].appointment_id}/reschedule",
            json={"starts_at": (MONDAY_0900 + timedelta(hours=6)).isoformat()},
            headers=desk,
        )
        assert (moved.status_code, moved.json()["count"]) == (403, 3)
        # The member re-authenticates (what POST /api/v1/auth/reauth records), then retries.
        clock.advance(timedelta(seconds=5))
        assert world.secretary.token is not None
        with db.write() as session:
            mark_reauthenticated(
                session, token_hash=hash_token(world.secretary.token), now=clock.now()
            )
        assert [cancel(n) for n in range(3, 6)] == [200, 200, 200]
        # One confirmation, one window's worth: asked again past the threshold.
        assert cancel(6) == 403
        clock.advance(timedelta(minutes=10))
        assert cancel(6) == 200

    # Patients cancelling their own appointments are not counted.
    with TestClient(app) as client:
        for n in range(4):
            own = book(db, clock, world, MONDAY_0900 + timedelta(weeks=n + 1, hours=1))
            answer = client.post(
                f"{base}{own.appointment_id}/cancel",
                json={"reason": "patient_unavailable"},
                headers=auth(world.holder),
            )
            assert answer.status_code == 200


def test_a_confirmation_counts_once_and_while_fresh() -> None:
    start = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    later = start + timedelta(minutes=3)
    assert confirmed_since(later, window_started_at=start, now=later)
    assert not confirmed_since(None, window_started_at=start, now=later)
    assert not confirmed_since(start, window_started_at=start, now=later)  # not after the start
    stale = later + REAUTH_WINDOW + timedelta(seconds=1)
    assert not confirmed_since(later, window_started_at=start, now=stale)
