"""A practitioner enters, changes and removes the time off of their own agenda, and nothing else
of the agenda (docs/authorization.md, `practice:time_off:manage`)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from uuid import UUID

import pytest
from fastapi.testclient import TestClient

from colloque.clock import SettableClock
from colloque.scheduling.services import do_add_practitioner
from colloque.scheduling.specialties import Specialty
from colloque.storage.engine import Database
from tests.factories import World, build_world
from tests.functional.http import app_client, bearer, problem

ABSENCE = {"kind": "absence", "first_day": "2026-03-10", "last_day": "2026-03-12"}
MORNING_OFF = {**ABSENCE, "start_minute": 9 * 60, "end_minute": 12 * 60}
HOLIDAY = {"kind": "holiday", "first_day": "2026-05-01", "last_day": "2026-05-01"}


@pytest.fixture
def world(db: Database, clock: SettableClock) -> World:
    return build_world(db, clock)


@pytest.fixture
def colleague(db: Database, clock: SettableClock, world: World) -> UUID:
    """Another practitioner's agenda in the same practice."""
    with db.write() as session:
        return do_add_practitioner(
            session,
            now=clock.now(),
            principal=world.admin.principal(db),
            practice_id=world.practice_id,
            first_name="Ada",
            last_name="Autre",
            specialty=Specialty.GENERAL_PRACTICE,
        ).practitioner_id


@pytest.fixture
def client(db: Database, clock: SettableClock) -> Iterator[TestClient]:
    with app_client(db, clock) as test_client:
        yield test_client


def overrides_url(world: World, practitioner_id: UUID) -> str:
    return f"/api/v1/practices/{world.practice_id}/practitioners/{practitioner_id}/overrides"


def override_url(world: World, override_id: str) -> str:
    return f"/api/v1/practices/{world.practice_id}/overrides/{override_id}"


def add(client: TestClient, world: World, who: str, practitioner_id: UUID, body: Any) -> str:
    response = client.post(
        overrides_url(world, practitioner_id), json=body, headers=bearer(getattr(world, who))
    )
    assert response.status_code == 201, response.text
    created: str = response.json()["id"]
    return created


def version_of(client: TestClient, world: World, override_id: str) -> dict[str, str]:
    read = client.get(override_url(world, override_id), headers=bearer(world.secretary))
    assert read.status_code == 200, read.text
    return {**bearer(world.doctor), "If-Match": read.headers["etag"]}


def listed(client: TestClient, world: World, practitioner_id: UUID) -> list[dict[str, Any]]:
    response = client.get(overrides_url(world, practitioner_id), headers=bearer(world.secretary))
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()
    return found


def test_a_practitioner_manages_their_own_time_off(client: TestClient, world: World) -> None:
    absence = add(client, world, "doctor", world.practitioner_id, ABSENCE)
    add(client, world, "doctor", world.practitioner_id, HOLIDAY)

    replaced = client.put(
        override_url(world, absence),
        json=MORNING_OFF,
        headers=version_of(client, world, absence),
    )
    assert replaced.status_code == 200, replaced.text
    assert (replaced.json()["start_minute"], replaced.json()["end_minute"]) == (540, 720)

    removed = client.delete(
        override_url(world, absence), headers=version_of(client, world, absence)
    )
    assert removed.status_code == 204, removed.text
    assert [o["kind"] for o in listed(client, world, world.practitioner_id)] == ["holiday"]


def test_never_a_colleagues_time_off(client: TestClient, world: World, colleague: UUID) -> None:
    refused = client.post(
        overrides_url(world, colleague), json=ABSENCE, headers=bearer(world.doctor)
    )
    problem(refused, 403)
    theirs = add(client, world, "secretary", colleague, ABSENCE)
    headers = version_of(client, world, theirs)
    problem(client.put(override_url(world, theirs), json=MORNING_OFF, headers=headers), 403)
    problem(client.delete(override_url(world, theirs), headers=headers), 403)
    assert [(o["override_id"], o["start_minute"]) for o in listed(client, world, colleague)] == [
        (theirs, None)
    ]


def test_never_an_extra_opening(client: TestClient, world: World) -> None:
    extra = {
        "kind": "extra_opening",
        "first_day": "2026-03-14",
        "last_day": "2026-03-14",
        "start_minute": 9 * 60,
        "end_minute": 12 * 60,
        "visit_type_ids": [str(world.consultation_id)],
    }
    mine = overrides_url(world, world.practitioner_id)
    problem(client.post(mine, json=extra, headers=bearer(world.doctor)), 403)

    # An absence of theirs does not become an extra opening, nor an extra opening an absence.
    absence = add(client, world, "doctor", world.practitioner_id, ABSENCE)
    headers = version_of(client, world, absence)
    problem(client.put(override_url(world, absence), json=extra, headers=headers), 403)
    opening = add(client, world, "secretary", world.practitioner_id, extra)
    headers = version_of(client, world, opening)
    problem(client.put(override_url(world, opening), json=ABSENCE, headers=headers), 403)
    problem(client.delete(override_url(world, opening), headers=headers), 403)
    assert sorted(o["kind"] for o in listed(client, world, world.practitioner_id)) == [
        "absence",
        "extra_opening",
    ]


def test_a_missing_override_is_a_404_for_the_practitioner_too(
    client: TestClient, world: World
) -> None:
    missing = override_url(world, "7d0b7b8e-8a4e-4c1e-9a51-7d1f3b0c2e11")
    headers = {**bearer(world.doctor), "If-Match": '"0"'}
    problem(client.delete(missing, headers=headers), 404)
