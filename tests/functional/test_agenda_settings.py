"""Reading and editing an agenda's visit types, rules and practice settings over HTTP, with the
versions that keep two admins from overwriting each other unseen (docs/scheduling.md)."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx2
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from colloque.api.app import create_app
from colloque.audit.models import AuditEvent
from colloque.clock import SettableClock
from colloque.config import Settings
from colloque.errors import InvalidInput
from colloque.scheduling.editing import VisitTypeChanges, do_edit_visit_type, visit_type_version
from colloque.scheduling.models import VisitType
from colloque.scheduling.services import AgendaRulesInput, do_add_practitioner, do_create_practice
from colloque.scheduling.specialties import Specialty
from colloque.scheduling.timetable import do_add_visit_type
from colloque.storage.engine import Database
from tests.factories import World, build_world
from tests.functional.http import app_client, bearer, problem
from tests.problems import same_bytes_but_request_id
from tests.server import running_server


@pytest.fixture
def world(db: Database, clock: SettableClock) -> World:
    return build_world(db, clock)


@pytest.fixture
def client(db: Database, clock: SettableClock) -> Iterator[TestClient]:
    with app_client(db, clock) as test_client:
        yield test_client


def agenda_url(world: World, what: str) -> str:
    return f"/api/v1/practices/{world.practice_id}/practitioners/{world.practitioner_id}/{what}"


def visit_type_url(world: World, visit_type_id: object) -> str:
    return f"/api/v1/practices/{world.practice_id}/visit-types/{visit_type_id}"


def agenda_events(db: Database, world: World) -> int:
    with db.read() as session:
        return (
            session.scalar(
                select(func.count())
                .select_from(AuditEvent)
                .where(
                    AuditEvent.object_kind == "agenda", AuditEvent.practice_id == world.practice_id
                )
            )
            or 0
        )


def versioned(response: Any) -> dict[str, Any]:
    """A 200 whose ETag header is its body's version."""
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert response.headers["etag"] == f'"{body["version"]}"'
    return body


def if_match(person: Any, version: str) -> dict[str, str]:
    return {**bearer(person), "If-Match": f'"{version}"'}


def test_visit_types_are_listed_read_edited_and_retired(
    client: TestClient, db: Database, world: World
) -> None:
    listed = client.get(agenda_url(world, "visit-types"), headers=bearer(world.doctor))
    assert listed.status_code == 200, listed.text
    # The practice-only type too: the public page leaves it out, its staff need it.
    assert str(world.urgent_id) in {vt["visit_type_id"] for vt in listed.json()}

    url = visit_type_url(world, world.consultation_id)
    read = versioned(client.get(url, headers=bearer(world.secretary)))
    assert (read["label"], read["duration_minutes"]) == ("Consultation", 20)

    problem(
        client.patch(url, json={"label": "Bilan"}, headers=bearer(world.admin)),
        428,
        field="If-Match",
    )
    events = agenda_events(db, world)
    edited = versioned(
        client.patch(
            url,
            json={"label": " Bilan ", "duration_minutes": 25},
            headers=if_match(world.admin, read["version"]),
        )
    )
    assert (edited["label"], edited["duration_minutes"]) == ("Bilan", 25)
    assert edited["version"] != read["version"]
    assert agenda_events(db, world) == events + 1

    # A second admin who read before that edit is refused, and changes nothing.
    stale = problem(
        client.patch(
            url, json={"label": "Autre"}, headers=if_match(world.secretary, read["version"])
        ),
        412,
        field="If-Match",
    )
    assert "visit type" in stale["detail"]
    assert versioned(client.get(url, headers=bearer(world.admin)))["label"] == "Bilan"
    assert agenda_events(db, world) == events + 1

    unchanged = versioned(
        client.patch(url, json={}, headers=if_match(world.admin, edited["version"]))
    )
    assert unchanged["version"] == edited["version"]
    everything = {
        "label": "Tout",
        "duration_minutes": 30,
        "online_bookable": False,
        "patient_kind": "known_only",
        "mode": "video",
    }
    changed = versioned(
        client.patch(url, json=everything, headers=if_match(world.admin, edited["version"]))
    )
    assert {key: changed[key] for key in everything} == everything

    for body, field in (
        ({"label": "   "}, "label"),
        ({"label": ""}, "label"),
        ({"duration_minutes": 3}, "duration_minutes"),
        ({"mode": "telepathy"}, "mode"),
    ):
        problem(
            client.patch(url, json=body, headers=if_match(world.admin, changed["version"])),
            422,
            field=field,
        )
    problem(
        client.patch(url, json={"label": "X"}, headers=if_match(world.doctor, changed["version"])),
        403,
    )

    problem(client.delete(url, headers=bearer(world.admin)), 428, field="If-Match")
    problem(
        client.delete(url, headers=if_match(world.admin, read["version"])), 412, field="If-Match"
    )
    retired = client.delete(url, headers=if_match(world.secretary, changed["version"]))
    assert retired.status_code == 200, retired.text
    assert retired.json()["outcome"] == "retired"
    problem(client.get(url, headers=bearer(world.admin)), 404)
    problem(client.delete(url, headers=if_match(world.admin, changed["version"])), 404)
    listed_after = client.get(agenda_url(world, "visit-types"), headers=bearer(world.admin)).json()
    assert str(world.consultation_id) not in {vt["visit_type_id"] for vt in listed_after}
    with db.read() as session:
        row = session.get(VisitType, (world.practice_id, world.consultation_id))
        assert row is not None
        assert row.active is False


def test_another_practice_s_visit_types_look_missing(
    client: TestClient, db: Database, clock: SettableClock, world: World
) -> None:
    principal = world.stranger.principal(db)
    with db.write() as session:
        practice = do_create_practice(
            session,
            now=clock.now(),
            principal=principal,
            name="Ailleurs",
            address="2 rue Basse",
            postcode="69002",
            city="Lyon",
            latitude=45.75,
            longitude=4.83,
        )
    # Their membership of the new practice counts from their next principal.
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
        theirs = do_add_visit_type(
            session,
            now=clock.now(),
            principal=principal,
            practice_id=practice.practice_id,
            practitioner_id=practitioner.practitioner_id,
            label="Leur visite",
            duration_minutes=20,
        )
        their_version = visit_type_version(theirs)
        their_id = theirs.visit_type_id
    admin = world.admin
    for method, headers in (
        ("GET", bearer(admin)),
        ("PATCH", if_match(admin, their_version)),
        ("DELETE", if_match(admin, their_version)),
    ):
        body = {"label": "Pris"} if method == "PATCH" else None
        foreign = client.request(
            method, visit_type_url(world, their_id), json=body, headers=headers
        )
        missing = client.request(
            method, visit_type_url(world, uuid.uuid4()), json=body, headers=headers
        )
        problem(foreign, 404)
        assert same_bytes_but_request_id(foreign.content, missing.content)
    # Their practice's own path: the admin is no member there.
    there = f"/api/v1/practices/{practice.practice_id}/visit-types/{their_id}"
    problem(client.get(there, headers=bearer(admin)), 404)
    elsewhere = (
        f"/api/v1/practices/{world.practice_id}/practitioners/{practitioner.practitioner_id}"
    )
    problem(client.get(elsewhere + "/visit-types", headers=bearer(admin)), 404)
    problem(client.get(elsewhere + "/rules", headers=bearer(admin)), 404)
    assert client.get(there, headers=bearer(world.stranger)).json()["label"] == "Leur visite"


def test_the_service_checks_what_the_http_model_already_refuses(
    db: Database, clock: SettableClock, world: World
) -> None:
    with db.read() as session:
        row = session.get(VisitType, (world.practice_id, world.consultation_id))
        assert row is not None
        version = visit_type_version(row)
    for changes, field in (
        (VisitTypeChanges(duration_minutes=600), "duration_minutes"),
        (VisitTypeChanges(label="   "), "label"),
    ):
        with pytest.raises(InvalidInput) as caught, db.write() as session:
            do_edit_visit_type(
                session,
                now=clock.now(),
                principal=world.admin.principal(db),
                practice_id=world.practice_id,
                visit_type_id=world.consultation_id,
                expected_version=version,
                changes=changes,
            )
        assert caught.value.field == field


RULES = {
    "slot_step_minutes": 10,
    "min_notice_minutes": 0,
    "max_horizon_days": 60,
    "buffer_after_minutes": 5,
    "daily_cap": None,
}


def test_rules_are_read_and_replaced_whole(client: TestClient, db: Database, world: World) -> None:
    url = agenda_url(world, "rules")
    read = versioned(client.get(url, headers=bearer(world.doctor)))
    defaults = AgendaRulesInput()
    assert read["slot_step_minutes"] == defaults.slot_step_minutes
    headers = if_match(world.secretary, read["version"])
    # An empty body used to reset every rule to its default; now it names what is missing.
    problem(client.put(url, json={}, headers=headers), 422, field="slot_step_minutes")
    without_cap = {key: value for key, value in RULES.items() if key != "daily_cap"}
    problem(client.put(url, json=without_cap, headers=headers), 422, field="daily_cap")
    problem(client.put(url, json=RULES, headers=bearer(world.secretary)), 428, field="If-Match")
    problem(client.put(url, json=RULES, headers=if_match(world.doctor, read["version"])), 403)
    events = agenda_events(db, world)
    replaced = versioned(client.put(url, json=RULES, headers=headers))
    assert {key: replaced[key] for key in RULES} == RULES
    assert agenda_events(db, world) == events + 1
    stale = problem(
        client.put(
            url, json={**RULES, "daily_cap": 3}, headers=if_match(world.admin, read["version"])
        ),
        412,
        field="If-Match",
    )
    assert "agenda rules" in stale["detail"]
    assert versioned(client.get(url, headers=bearer(world.admin)))["daily_cap"] is None
    problem(
        client.put(
            url,
            json={**RULES, "slot_step_minutes": 1},
            headers=if_match(world.admin, replaced["version"]),
        ),
        422,
        field="slot_step_minutes",
    )


def test_practice_settings_are_read_by_members_and_changed_by_admins(
    client: TestClient, db: Database, world: World
) -> None:
    url = f"/api/v1/practices/{world.practice_id}/settings"
    read = versioned(client.get(url, headers=bearer(world.secretary)))
    assert read["hold_minutes"] == 30
    problem(client.get(url, headers=bearer(world.stranger)), 404)
    problem(client.get(url), 401)
    problem(
        client.patch(url, json={"hold_minutes": 5}, headers=bearer(world.admin)),
        428,
        field="If-Match",
    )
    problem(
        client.patch(
            url, json={"hold_minutes": 5}, headers=if_match(world.secretary, read["version"])
        ),
        403,
    )
    changed = versioned(
        client.patch(url, json={"hold_minutes": 5}, headers=if_match(world.admin, read["version"]))
    )
    assert (changed["hold_minutes"], changed["anti_hoarding_days"]) == (
        5,
        read["anti_hoarding_days"],
    )
    stale = problem(
        client.patch(
            url, json={"anti_hoarding_days": 0}, headers=if_match(world.admin, read["version"])
        ),
        412,
        field="If-Match",
    )
    assert "practice settings" in stale["detail"]
    assert (
        versioned(client.get(url, headers=bearer(world.admin)))["anti_hoarding_days"]
        == read["anti_hoarding_days"]
    )
    problem(
        client.patch(
            url, json={"hold_minutes": 0}, headers=if_match(world.admin, changed["version"])
        ),
        422,
        field="hold_minutes",
    )


async def _edit_at_once(
    base_url: str, url: str, headers: dict[str, str], labels: list[str]
) -> list[httpx2.Response]:
    async with httpx2.AsyncClient(base_url=base_url, timeout=60) as client:
        start = asyncio.Event()

        async def one(label: str) -> httpx2.Response:
            await start.wait()
            return await client.patch(url, json={"label": label}, headers=headers)

        tasks = [asyncio.create_task(one(label)) for label in labels]
        await asyncio.sleep(0.05)
        start.set()
        return await asyncio.gather(*tasks)


@pytest.mark.slow
def test_edits_based_on_one_read_never_both_pass(
    db: Database, clock: SettableClock, world: World
) -> None:
    """Real concurrency on a real server: the version check and the edit are one step."""
    app = create_app(Settings(run_refresher=False), database=db, clock=clock)
    url = visit_type_url(world, world.consultation_id)
    with db.read() as session:
        row = session.get(VisitType, (world.practice_id, world.consultation_id))
        assert row is not None
        version = visit_type_version(row)
    labels = [f"Visite {index}" for index in range(8)]
    with running_server(app) as base_url:
        answers = asyncio.run(_edit_at_once(base_url, url, if_match(world.admin, version), labels))
    statuses = Counter(answer.status_code for answer in answers)
    assert statuses == {200: 1, 412: 7}, [answer.text for answer in answers]
    winner = next(answer.json()["label"] for answer in answers if answer.status_code == 200)
    with db.read() as session:
        row = session.get(VisitType, (world.practice_id, world.consultation_id))
        assert row is not None
        assert row.label == winner
