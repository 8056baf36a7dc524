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
from colloque.incidents.models import Incident, IncidentStep
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
    with db.read() as session:
        sitting = max(w.day_points / w.day_limit for w in session.scalars(select(CredentialWindow)))
    print(f"its busiest session used {sitting:.0%} of its day's limit")
    assert len(booked) == 15
    assert len(answers) > 140


#: The day's limit of a secretary of the drill's practice: three hourly limits (the role's 200
#: points at 2,000 patients). A reader of the agenda is credited at least one point per distinct
#: person it read plus a tenth per appointment, so it is refused before this many persons.
DAY_LIMIT_PERSONS = 600


def test_a_slow_stolen_desk_token_is_suspended_by_its_day(
    db: Database, clock: SettableClock, world: World
) -> None:
    """A thief who knows the hourly limit: every 20 minutes (the token's idle timeout is 30) the
    agenda of four more days around today, inside the horizon, about 150 points an hour. The
    hour never trips; the day does, before 600 distinct patients, where the hourly limit alone
    let it read on for the token's 12 hours."""
    populate(db, clock, world)
    app = make_app(db, clock)
    base = f"/api/v1/practices/{world.practice_id}"
    with db.write() as session:
        token = do_issue_token(session, now=clock.now(), account_id=world.secretary.account_id)
    headers = bearer(token)
    today = clock.now().replace(hour=0, minute=0)
    seen: set[str] = set()
    steps = 0
    with TestClient(app) as client:
        for step in range(36):  # 12 hours: the token's whole life
            clock.set(today + timedelta(hours=7, minutes=10 + 20 * step))
            offset = (step // 2 + 1) * 4 * (1 if step % 2 else -1)
            start = today + timedelta(days=offset if offset > 0 else offset - 1)
            params = {
                "from": start.date().isoformat(),
                "until": (start + timedelta(days=3)).date().isoformat(),
            }
            answer = client.get(f"{base}/agenda", params=params, headers=headers)
            steps += 1
            if answer.status_code != 200:
                break
            seen |= patients_in(answer)
        assert answer.status_code == 401, answer.text
        assert answer.json()["type"].endswith("/credential-suspended")
    print("distinct patients read before the day's suspension:", len(seen), "in", steps)
    assert len(seen) < DAY_LIMIT_PERSONS
    assert len(seen) > 2 * 200  # more than the hour allows: the hours let it through
    assert steps < 36
    (suspension,) = suspensions(db)
    assert suspension.reason == "threshold"
    with db.read() as session:
        (window,) = session.scalars(select(CredentialWindow)).all()
        # As the refused read left them (it rolled back): the hour far from its limit, the day
        # close to its own.
        assert window.points < window.point_limit == 200
        assert 2 * 200 < window.day_points < window.day_limit == 3 * 200
        summary = session.scalar(
            select(Incident.summary).where(Incident.incident_id == suspension.incident_id)
        )
    assert summary is not None
    assert "(its day's limit)" in summary


def test_a_desk_day_on_one_session_never_trips_its_day(
    db: Database, clock: SettableClock, world: World
) -> None:
    """One session from 07:00 to 18:40, used every 20 minutes: the weeks in the morning, the day
    view again and again, a patient looked up (and searched by name) at each step, a phone
    booking every hour and every other one moved."""
    ids = populate(db, clock, world)
    app = make_app(db, clock)
    base = f"/api/v1/practices/{world.practice_id}"
    start = clock.now()
    monday = start.replace(hour=0, minute=0)
    with db.write() as session:
        token = do_issue_token(session, now=start, account_id=world.secretary.account_id)
    headers = bearer(token)
    answers = []
    with TestClient(app) as client:
        for weeks in (0, 1):
            params = week(monday + timedelta(weeks=weeks))
            answers.append(client.get(f"{base}/agenda", params=params, headers=headers))
        for step in range(35):
            clock.set(start + timedelta(minutes=20 * step))
            shown = monday + timedelta(days=step % 3 and 1)
            params = {"from": shown.date().isoformat(), "until": shown.date().isoformat()}
            answers.append(client.get(f"{base}/agenda", params=params, headers=headers))
            patient = ids[step * 53 % len(ids)]
            detail = client.get(f"{base}/patients/{patient}", headers=headers)
            answers.append(detail)
            name = detail.json()["last_name"]
            answers.append(client.get(f"{base}/patients", params={"query": name}, headers=headers))
            if step % 3 == 0:
                when = monday + timedelta(days=3 + step // 9, hours=15, minutes=20 * (step % 9))
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
                if booking.status_code == 201 and step % 6 == 0:
                    answers.append(
                        client.post(
                            f"{base}/appointments/{booking.json()['appointment_id']}/reschedule",
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
        (window,) = session.scalars(select(CredentialWindow)).all()
    print(f"the desk's day used {window.day_points / window.day_limit:.0%} of its day's limit")
    assert window.day_start == start
    assert len(answers) > 100
