"""Listing, reading, replacing and removing weekly openings, breaks and date overrides over HTTP,
each edit naming the version it read (docs/scheduling.md, "Editing an agenda's settings")."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any
from uuid import UUID

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from colloque.audit.models import AuditEvent
from colloque.clock import SettableClock
from colloque.scheduling.services import do_add_practitioner, do_create_practice
from colloque.scheduling.specialties import Specialty
from colloque.scheduling.timetable import do_add_break, do_add_opening_range, do_add_visit_type
from colloque.storage.engine import Database
from tests.factories import World, build_world
from tests.functional.http import app_client, bearer, problem
from tests.problems import same_bytes_but_request_id


@pytest.fixture
def world(db: Database, clock: SettableClock) -> World:
    return build_world(db, clock)


@pytest.fixture
def client(db: Database, clock: SettableClock) -> Iterator[TestClient]:
    with app_client(db, clock) as test_client:
        yield test_client


def agenda_url(world: World, what: str) -> str:
    return f"/api/v1/practices/{world.practice_id}/practitioners/{world.practitioner_id}/{what}"


def part_url(world: World, what: str, part_id: object) -> str:
    return f"/api/v1/practices/{world.practice_id}/{what}/{part_id}"


def agenda_events(db: Database) -> int:
    with db.read() as session:
        count = session.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.object_kind == "agenda")
        )
        return count or 0


def versioned(response: Any) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert response.headers["etag"] == f'"{body["version"]}"'
    return body


def if_match(world: World, version: str, *, who: str = "secretary") -> dict[str, str]:
    return {**bearer(getattr(world, who)), "If-Match": f'"{version}"'}


def test_openings_are_listed_replaced_and_removed(
    client: TestClient, db: Database, world: World
) -> None:
    listed = client.get(agenda_url(world, "openings"), headers=bearer(world.doctor))
    assert listed.status_code == 200, listed.text
    week = [(o["weekday"], o["start_minute"], o["end_minute"]) for o in listed.json()]
    assert week[:3] == [(0, 540, 720), (0, 840, 1080), (1, 540, 720)]
    assert len(week) == 10
    monday_morning = listed.json()[0]
    url = part_url(world, "openings", monday_morning["opening_id"])
    read = versioned(client.get(url, headers=bearer(world.secretary)))
    assert read == monday_morning

    moved = {
        "weekday": 0,
        "start_minute": 8 * 60,
        "end_minute": 11 * 60,
        "visit_type_ids": [str(world.consultation_id)],
    }
    problem(client.put(url, json=moved, headers=bearer(world.secretary)), 428, field="If-Match")
    clash = {**moved, "end_minute": 15 * 60}
    refused = problem(
        client.put(url, json=clash, headers=if_match(world, read["version"])),
        422,
        field="start_minute",
    )
    assert "overlaps" in refused["detail"]
    foreign_type = {**moved, "visit_type_ids": [str(uuid.uuid4())]}
    problem(
        client.put(url, json=foreign_type, headers=if_match(world, read["version"])),
        422,
        field="visit_type_ids",
    )
    problem(
        client.put(url, json={**moved, "weekday": 7}, headers=if_match(world, read["version"])),
        422,
        field="weekday",
    )
    problem(
        client.put(url, json=moved, headers=if_match(world, read["version"], who="doctor")), 403
    )
    events = agenda_events(db)
    # Overlapping only its own old range: allowed.
    replaced = versioned(client.put(url, json=moved, headers=if_match(world, read["version"])))
    assert (replaced["start_minute"], replaced["visit_type_ids"]) == (480, moved["visit_type_ids"])
    assert agenda_events(db) == events + 1
    stale = problem(
        client.put(
            url,
            json={**moved, "start_minute": 7 * 60},
            headers=if_match(world, read["version"], who="admin"),
        ),
        412,
        field="If-Match",
    )
    assert "opening" in stale["detail"]
    assert versioned(client.get(url, headers=bearer(world.admin)))["start_minute"] == 480

    problem(client.delete(url, headers=bearer(world.secretary)), 428, field="If-Match")
    problem(client.delete(url, headers=if_match(world, read["version"])), 412, field="If-Match")
    assert client.delete(url, headers=if_match(world, replaced["version"])).status_code == 204
    assert agenda_events(db) == events + 2
    problem(client.get(url, headers=bearer(world.admin)), 404)
    after = client.get(agenda_url(world, "openings"), headers=bearer(world.admin)).json()
    assert len(after) == 9


def test_breaks_are_listed_replaced_and_removed(client: TestClient, world: World) -> None:
    listed = client.get(agenda_url(world, "breaks"), headers=bearer(world.doctor))
    assert [(b["weekday"], b["start_minute"]) for b in listed.json()] == [(2, 960)]
    url = part_url(world, "breaks", listed.json()[0]["break_id"])
    read = versioned(client.get(url, headers=bearer(world.doctor)))
    later = {"weekday": 2, "start_minute": 17 * 60, "end_minute": 17 * 60 + 15}
    problem(client.put(url, json=later, headers=bearer(world.admin)), 428, field="If-Match")
    problem(
        client.put(
            url, json={**later, "end_minute": 16 * 60}, headers=if_match(world, read["version"])
        ),
        422,
        field="start_minute",
    )
    replaced = versioned(client.put(url, json=later, headers=if_match(world, read["version"])))
    assert replaced["start_minute"] == 17 * 60
    problem(
        client.put(url, json=later, headers=if_match(world, read["version"])), 412, field="If-Match"
    )
    problem(client.delete(url, headers=if_match(world, read["version"])), 412, field="If-Match")
    assert client.delete(url, headers=if_match(world, replaced["version"])).status_code == 204
    problem(client.delete(url, headers=if_match(world, replaced["version"])), 404)
    assert client.get(agenda_url(world, "breaks"), headers=bearer(world.admin)).json() == []


def test_overrides_are_listed_replaced_and_removed(client: TestClient, world: World) -> None:
    for first, last in (("2026-03-10", "2026-03-11"), ("2026-04-01", "2026-04-03")):
        absence = {"kind": "absence", "first_day": first, "last_day": last}
        made = client.post(
            agenda_url(world, "overrides"), json=absence, headers=bearer(world.admin)
        )
        assert made.status_code == 201, made.text
    listed = client.get(agenda_url(world, "overrides"), headers=bearer(world.doctor)).json()
    assert [o["first_day"] for o in listed] == ["2026-03-10", "2026-04-01"]
    since = client.get(
        agenda_url(world, "overrides"), params={"since": "2026-03-12"}, headers=bearer(world.doctor)
    ).json()
    assert [o["first_day"] for o in since] == ["2026-04-01"]
    url = part_url(world, "overrides", listed[0]["override_id"])
    read = versioned(client.get(url, headers=bearer(world.secretary)))
    assert (read["kind"], read["start_minute"], read["visit_type_ids"]) == ("absence", None, [])

    extra = {
        "kind": "extra_opening",
        "first_day": "2026-03-14",
        "last_day": "2026-03-14",
        "start_minute": 9 * 60,
        "end_minute": 12 * 60,
        "visit_type_ids": [str(world.consultation_id)],
    }
    problem(client.put(url, json=extra, headers=bearer(world.secretary)), 428, field="If-Match")
    holiday_with_times = {**extra, "kind": "holiday", "visit_type_ids": []}
    problem(
        client.put(url, json=holiday_with_times, headers=if_match(world, read["version"])),
        422,
        field="start_minute",
    )
    problem(
        client.put(
            url, json={**extra, "last_day": "2026-03-13"}, headers=if_match(world, read["version"])
        ),
        422,
        field="last_day",
    )
    replaced = versioned(client.put(url, json=extra, headers=if_match(world, read["version"])))
    assert (replaced["kind"], replaced["visit_type_ids"]) == (
        "extra_opening",
        extra["visit_type_ids"],
    )
    problem(
        client.put(url, json=extra, headers=if_match(world, read["version"])), 412, field="If-Match"
    )
    problem(client.delete(url, headers=if_match(world, read["version"])), 412, field="If-Match")
    assert client.delete(url, headers=if_match(world, replaced["version"])).status_code == 204
    problem(client.get(url, headers=bearer(world.secretary)), 404)


def another_practice(db: Database, clock: SettableClock, world: World) -> tuple[UUID, UUID]:
    """A practice of the stranger's with one agenda: a visit type, an opening and a break."""
    with db.write() as session:
        practice = do_create_practice(
            session,
            now=clock.now(),
            principal=world.stranger.principal(db),
            name="Ailleurs",
            address="2 rue Basse",
            postcode="69002",
            city="Lyon",
            latitude=45.75,
            longitude=4.83,
        )
    principal = world.stranger.principal(db)
    with db.write() as session:
        practitioner = do_add_practitioner(
            session,
            now=clock.now(),
            principal=principal,
            practice_id=practice.practice_id,
            first_name="Ada",
            last_name="Autre",
            specialty=Specialty.GENERAL_PRACTICE,
        )
        practice_id, practitioner_id = practice.practice_id, practitioner.practitioner_id
        now = clock.now()
        visit_type = do_add_visit_type(
            session,
            now=now,
            principal=principal,
            practice_id=practice_id,
            practitioner_id=practitioner_id,
            label="Visite",
            duration_minutes=20,
        )
        session.flush()
        do_add_opening_range(
            session,
            now=now,
            principal=principal,
            practice_id=practice_id,
            practitioner_id=practitioner_id,
            weekday=6,
            start_minute=600,
            end_minute=660,
            visit_type_ids=[visit_type.visit_type_id],
        )
        do_add_break(
            session,
            now=now,
            principal=principal,
            practice_id=practice_id,
            practitioner_id=practitioner_id,
            weekday=6,
            start_minute=620,
            end_minute=630,
        )
        return practice_id, practitioner_id


def test_another_practice_s_parts_look_missing(
    client: TestClient, db: Database, clock: SettableClock, world: World
) -> None:
    practice_id, practitioner_id = another_practice(db, clock, world)
    stranger = bearer(world.stranger)
    theirs = f"/api/v1/practices/{practice_id}/practitioners/{practitioner_id}"
    openings = client.get(f"{theirs}/openings", headers=stranger).json()
    breaks = client.get(f"{theirs}/breaks", headers=stranger).json()
    parts = {"openings": openings[0], "breaks": breaks[0]}
    ids = {"openings": "opening_id", "breaks": "break_id"}
    fields = {
        "openings": ("weekday", "start_minute", "end_minute", "visit_type_ids"),
        "breaks": ("weekday", "start_minute", "end_minute"),
    }
    for what, part in parts.items():
        for method in ("GET", "PUT", "DELETE"):
            headers = {**bearer(world.admin), "If-Match": f'"{part["version"]}"'}
            body = {key: part[key] for key in fields[what]} if method == "PUT" else None
            foreign = client.request(
                method, part_url(world, what, part[ids[what]]), json=body, headers=headers
            )
            missing = client.request(
                method, part_url(world, what, uuid.uuid4()), json=body, headers=headers
            )
            problem(foreign, 404)
            assert same_bytes_but_request_id(foreign.content, missing.content)
    elsewhere = f"/api/v1/practices/{world.practice_id}/practitioners/{practitioner_id}"
    for what in ("openings", "breaks", "overrides"):
        problem(client.get(f"{elsewhere}/{what}", headers=bearer(world.admin)), 404)
        problem(client.get(f"{theirs}/{what}", headers=bearer(world.admin)), 404)
