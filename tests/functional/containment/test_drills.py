"""The drills of issue 15, on both databases: a stolen desk token is suspended before it has read
200 distinct patients of a practice of 2,000; a normal desk week never trips the counters."""

from __future__ import annotations

import itertools
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from colloque.accounts.models import AccessToken
from colloque.accounts.services import do_issue_token
from colloque.audit.models import AuditEvent
from colloque.clock import SettableClock
from colloque.containment.models import CredentialWindow
from colloque.incidents.models import IncidentStep
from colloque.storage.engine import Database
from tests.factories import World
from tests.functional.containment.conftest import (
    SYLLABLES,
    mails,
    make_app,
    populate,
    suspensions,
    week,
)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def patients_in(answer: Any) -> set[str]:
    body = answer.json()
    return {row["patient"]["patient_id"] if "patient" in row else row["patient_id"] for row in body}


def test_a_stolen_desk_token_is_suspended_before_200_patients(
    db: Database, clock: SettableClock, world: World
) -> None:
    populate(db, clock, world)
    app = make_app(db, clock)
    base = f"/api/v1/practices/{world.practice_id}"
    headers = bearer(world.secretary.token)
    monday = clock.now().replace(hour=0, minute=0) - timedelta(days=clock.now().weekday())
    # As fast as it can: the agenda week by week outward from today (both ways), a look-up by
    # two letters of a name and every patient it found, in turn.
    queries = ("".join(pair) for pair in itertools.product(SYLLABLES, repeat=1))
    seen: set[str] = set()
    requests = 0
    with TestClient(app) as client:
        for n in range(200):
            start = monday + timedelta(weeks=(n // 2 + 1) * (1 if n % 2 else -1))
            answer = client.get(f"{base}/agenda", params=week(start), headers=headers)
            requests += 1
            if answer.status_code != 200:
                break
            seen |= patients_in(answer)
            answer = client.get(
                f"{base}/patients", params={"query": next(queries)}, headers=headers
            )
            requests += 1
            if answer.status_code != 200:
                break
            seen |= patients_in(answer)
        assert answer.status_code == 401, answer.text
        assert answer.json()["type"].endswith("/credential-suspended")
        assert answer.headers["content-type"] == "application/problem+json"
        again = client.get(f"{base}/agenda", params=week(monday), headers=headers)
        assert again.status_code == 401
        assert again.json()["type"].endswith("/credential-suspended")
        print("distinct patients read before the suspension:", len(seen), "in", requests)
        assert len(seen) < 200, (len(seen), requests)
        assert len(seen) > 50  # the limit let a desk's hour of work through first

        # The credential, not the account: the owner signs in again and carries on.
        with db.write() as session:
            fresh = do_issue_token(session, now=clock.now(), account_id=world.secretary.account_id)
        back = client.get(f"{base}/agenda", params=week(monday), headers=bearer(fresh))
        assert back.status_code == 200

    (suspension,) = suspensions(db)
    assert suspension.reason == "threshold"
    assert suspension.account_id == world.secretary.account_id
    with db.read() as session:
        steps = session.scalars(
            select(IncidentStep.kind).where(IncidentStep.incident_id == suspension.incident_id)
        ).all()
        assert sorted(steps) == ["contained", "opened"]
        assert (
            session.scalar(
                select(func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.action == "security:credential:suspend")
            )
            == 1
        )
        # The stolen token ended; the five persons' other tokens and the new one stay.
        assert session.scalar(select(func.count()).select_from(AccessToken)) == 5
    assert mails(db, "credential_suspended") == {world.secretary.account_id, world.admin.account_id}


def test_a_normal_desk_week_never_trips_the_counters(
    db: Database, clock: SettableClock, world: World
) -> None:
    """A trace from the desk's screens: each morning the week and the next in the week view,
    then through the day the day views, phone look-ups of patients by name, phone bookings and
    moves; a new session at each sitting (the staff's idle timeout is 30 minutes)."""
    ids = populate(db, clock, world)
    app = make_app(db, clock)
    base = f"/api/v1/practices/{world.practice_id}"
    start = clock.now()
    monday = start.replace(hour=0, minute=0)
    answers = []
    booked: list[str] = []
    with TestClient(app) as client:
        for day in range(5):
            today = monday + timedelta(days=day)
            for hour, views in enumerate(([0, 7], [0, 1], [1, 3])):
                clock.set(start + timedelta(days=day, hours=2 * hour))
                # Two hours apart, past the staff's 30-minute idle timeout: a new sign-in.
                with db.write() as session:
                    token = do_issue_token(
                        session, now=clock.now(), account_id=world.secretary.account_id
                    )
                headers = bearer(token)
                if hour == 0:
                    for weeks in (0, 1):
                        params = week(monday + timedelta(weeks=weeks))
                        answers.append(client.get(f"{base}/agenda", params=params, headers=headers))
                for offset in views:
                    shown = today + timedelta(days=offset)
                    params = {"from": shown.date().isoformat(), "until": shown.date().isoformat()}
                    answers.append(client.get(f"{base}/agenda", params=params, headers=headers))
                for call in range(2):
                    patient = ids[(day * 40 + hour * 10 + call) * 7 % len(ids)]
                    detail = client.get(f"{base}/patients/{patient}", headers=headers)
                    answers.append(detail)
                    assert detail.status_code == 200, (day, hour, call, detail.text)
                    name = detail.json()["last_name"]
                    answers.append(
                        client.get(f"{base}/patients", params={"query": name}, headers=headers)
                    )
                    # A phone booking for them in the afternoon, days ahead; every other one moved.
                    when = today + timedelta(days=2 + call, hours=15 + hour, minutes=20 * call)
                    booking = client.post(
                        f"{base}/appointments",
                        json={
                            "practitioner_id": str(world.practitioner_id),
                            "patient_id": str(patient),
                            "starts_at": when.isoformat(),
                            "duration_minutes": 20,
                            "outside_hours_confirmed": True,
                        },
                        headers=headers,
                    )
                    answers.append(booking)
                    if booking.status_code == 201 and call == 1:
                        appointment = booking.json()["appointment_id"]
                        booked.append(appointment)
                        answers.append(
                            client.post(
                                f"{base}/appointments/{appointment}/reschedule",
                                json={
                                    "starts_at": (when + timedelta(days=7)).isoformat(),
                                    "outside_hours_confirmed": True,
                                },
                                headers=headers,
                            )
                        )
    refused = [
        (a.request.url.path, a.status_code, a.text[:200]) for a in answers if a.status_code >= 300
    ]
    assert refused == []
    assert suspensions(db) == []
    with db.read() as session:
        peak = max(w.points / w.point_limit for w in session.scalars(select(CredentialWindow)))
    print(f"the desk's busiest hour used {peak:.0%} of its limit")
    assert len(booked) == 15
    assert len(answers) > 140
