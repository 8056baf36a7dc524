"""The HTTP API end to end (in-process ASGI), on a SQLite file and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from colloque.api.app import create_app
from colloque.clock import SettableClock
from colloque.config import Settings
from colloque.storage.engine import Database
from colloque.worker import run_cycle
from tests.factories import World, book, build_world
from tests.problems import without_request_id

MON_0900 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


@pytest.fixture
def world(db: Database, clock: SettableClock) -> World:
    return build_world(db, clock)


@pytest.fixture
def client(db: Database, clock: SettableClock) -> Iterator[TestClient]:
    app = create_app(Settings(run_refresher=False), database=db, clock=clock)
    with TestClient(app, raise_server_exceptions=True) as test_client:
        yield test_client


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def assert_problem(response: Any, status: int, field: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["type"].startswith("https://")
    assert body["title"]
    if field is not None:
        assert body["field"] == field, body
    return body


def booking_body(
    world: World, starts_at: datetime, overrides: dict[str, Any] | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "practice_id": str(world.practice_id),
        "practitioner_id": str(world.practitioner_id),
        "duration_minutes": 20,
        "patient_id": str(world.holder_patient_id),
        "starts_at": starts_at.isoformat(),
    }
    body.update(overrides or {})
    return body


def test_health_and_openapi(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok", "database": "ok"}
    spec = client.get("/openapi.json").json()
    assert "/api/v1/appointments" in spec["paths"]
    assert "/api/v1/search" in spec["paths"]


def test_unknown_route_and_method_are_problems(client: TestClient) -> None:
    assert_problem(client.get("/api/v1/nothing-here"), 404)
    assert_problem(client.delete("/api/v1/search"), 405)


def test_book_cancel_via_http(client: TestClient, world: World) -> None:
    created = client.post(
        "/api/v1/appointments",
        json=booking_body(world, MON_0900 + timedelta(days=1)),
        headers=auth(world.holder.token),
    )
    assert created.status_code == 201, created.text
    appointment = created.json()
    assert appointment["status"] == "booked"
    assert appointment["patient"]["patient_id"] == str(world.holder_patient_id)
    url = f"/api/v1/practices/{world.practice_id}/appointments/{appointment['appointment_id']}"
    detail = client.get(url, headers=auth(world.holder.token)).json()
    assert [event["kind"] for event in detail["history"]] == ["booked"]
    listed = client.get("/api/v1/me/appointments", headers=auth(world.holder.token)).json()
    assert [a["appointment_id"] for a in listed] == [appointment["appointment_id"]]
    cancelled = client.post(
        url + "/cancel", json={"reason": "patient_unavailable"}, headers=auth(world.holder.token)
    )
    assert cancelled.json()["status"] == "cancelled_by_patient"
    again = client.post(
        url + "/cancel", json={"reason": "patient_unavailable"}, headers=auth(world.holder.token)
    )
    assert assert_problem(again, 422)["rule"] == "not_booked"


def test_foreign_and_missing_look_the_same(client: TestClient, world: World) -> None:
    created = client.post(
        "/api/v1/appointments", json=booking_body(world, MON_0900), headers=auth(world.holder.token)
    ).json()
    foreign = client.get(
        f"/api/v1/practices/{world.practice_id}/appointments/{created['appointment_id']}",
        headers=auth(world.stranger.token),
    )
    missing = client.get(
        f"/api/v1/practices/{world.practice_id}/appointments/{world.practitioner_id}",
        headers=auth(world.stranger.token),
    )
    assert foreign.status_code == missing.status_code == 404
    assert without_request_id(foreign.json()) == without_request_id(missing.json())
    assert foreign.headers["content-length"] == missing.headers["content-length"]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"starts_at": "2026-03-02T09:00:00"}, "starts_at"),  # naive
        ({"starts_at": "tomorrow"}, "starts_at"),
        ({"patient_id": "12"}, "patient_id"),
        ({"duration_minutes": None}, "duration_minutes"),
        ({"duration_minutes": 17}, "duration_minutes"),
        ({"appointment_id": "00000000-0000-1000-8000-000000000000"}, "appointment_id"),
        ({"unexpected": 1}, "unexpected"),
    ],
)
def test_bad_booking_input_names_the_field(
    client: TestClient, world: World, overrides: dict[str, Any], field: str
) -> None:
    response = client.post(
        "/api/v1/appointments",
        json=booking_body(world, MON_0900, overrides),
        headers=auth(world.holder.token),
    )
    body = assert_problem(response, 422, field)
    assert (
        "2026-03-02T09:00:00" not in response.text
        or field != "starts_at"
        or "naive" not in body["detail"]
    )


def test_malformed_json_is_a_problem(client: TestClient, world: World) -> None:
    response = client.post(
        "/api/v1/appointments",
        content=b"{not json",
        headers={**auth(world.holder.token), "content-type": "application/json"},
    )
    assert_problem(response, 422)


def test_rule_violation_names_rule_and_field(client: TestClient, world: World) -> None:
    response = client.post(
        "/api/v1/appointments",
        json=booking_body(world, MON_0900 + timedelta(minutes=7)),
        headers=auth(world.holder.token),
    )
    body = assert_problem(response, 422, "starts_at")
    assert body["rule"] == "not_aligned"


def test_authentication(client: TestClient, world: World) -> None:
    assert_problem(client.post("/api/v1/appointments", json=booking_body(world, MON_0900)), 401)
    assert_problem(client.get("/api/v1/me", headers=auth("clq_not-a-token")), 401)
    me = client.get("/api/v1/me", headers=auth(world.secretary.token)).json()
    assert me["memberships"] == [
        {"practice_id": str(world.practice_id), "role": "secretary", "practitioner_id": None}
    ]


def test_practice_page_lists_online_visit_types(client: TestClient, world: World) -> None:
    agendas = client.get(f"/api/v1/practices/{world.practice_id}/practitioners").json()
    assert [a["practitioner"]["last_name"] for a in agendas] == ["Martin"]
    labels = [vt["label"] for vt in agendas[0]["visit_types"]]
    assert "Urgence" not in labels
    assert {"Consultation", "Téléconsultation", "Suivi"} <= set(labels)
    assert_problem(client.get(f"/api/v1/practices/{world.practitioner_id}/practitioners"), 404)


def test_slots_endpoint(client: TestClient, world: World) -> None:
    response = client.get(
        f"/api/v1/practices/{world.practice_id}/practitioners/{world.practitioner_id}/slots",
        params={"visit_type_id": str(world.consultation_id), "days": 1},
    )
    assert response.status_code == 200, response.text
    starts = [datetime.fromisoformat(s["starts_at"]) for s in response.json()]
    assert starts[0] == MON_0900
    assert all(s.tzinfo is not None for s in starts)
    # 09:00-12:00 with 20-minute visits on a 15-minute grid: 09:00 ... 11:30 (11 starts).
    assert len([s for s in starts if s < MON_0900 + timedelta(hours=3)]) == 11
    bad = client.get(
        f"/api/v1/practices/{world.practice_id}/practitioners/{world.practitioner_id}/slots",
        params={"visit_type_id": str(world.consultation_id), "days": 400},
    )
    assert_problem(bad, 422, "days")


def test_slots_by_length_are_the_union_of_the_fitting_types(
    client: TestClient, world: World
) -> None:
    url = f"/api/v1/practices/{world.practice_id}/practitioners/{world.practitioner_id}/slots"

    def starts(params: dict[str, Any]) -> set[str]:
        response = client.get(url, params={**params, "days": 1})
        assert response.status_code == 200, response.text
        return {s["starts_at"] for s in response.json()}

    # 15 minutes online: the follow-up (mornings and afternoons) and the video visit
    # (afternoons); the practice-only emergency slot is not offered online.
    follow_up = starts({"visit_type_id": str(world.follow_up_id)})
    video = starts({"visit_type_id": str(world.video_id)})
    assert starts({"duration_minutes": 15}) == follow_up | video
    assert_problem(client.get(url, params={"duration_minutes": 25}), 404, "duration_minutes")
    assert_problem(client.get(url), 422, "visit_type_id")
    both: dict[str, str | int] = {"duration_minutes": 15, "visit_type_id": str(world.video_id)}
    assert_problem(client.get(url, params=both), 422, "visit_type_id")


def test_search(client: TestClient, db: Database, clock: SettableClock, world: World) -> None:
    run_cycle(db, clock, batch=50)
    response = client.get(
        "/api/v1/search", params={"specialty": "general_practice", "city": "paris"}
    )
    assert response.status_code == 200, response.text
    page = response.json()
    assert len(page["results"]) == 1
    hit = page["results"][0]
    assert hit["practitioner"]["last_name"] == "Martin"
    assert hit["earliest_slot"] == "2026-03-02T08:00:00Z"
    assert hit["next_slots"][0]["starts_at"] == "2026-03-02T08:00:00Z"
    assert {vt["label"] for vt in hit["visit_types"]} >= {"Consultation", "Téléconsultation"}
    assert "Urgence" not in {vt["label"] for vt in hit["visit_types"]}

    video = client.get(
        "/api/v1/search", params={"specialty": "general_practice", "city": "Paris", "mode": "video"}
    ).json()
    assert video["results"][0]["earliest_slot"] == "2026-03-02T13:00:00Z"

    # Booking removes the slot from the cache at once.
    book(db, clock, world, MON_0900)
    after = client.get(
        "/api/v1/search", params={"specialty": "general_practice", "city": "Paris"}
    ).json()
    assert after["results"][0]["earliest_slot"] != "2026-03-02T08:00:00Z"

    near = client.get(
        "/api/v1/search",
        params={"latitude": 48.87, "longitude": 2.33, "radius_km": 2, "sort": "distance"},
    ).json()
    assert near["results"][0]["distance_km"] < 1
    far = client.get(
        "/api/v1/search", params={"latitude": 45.76, "longitude": 4.83, "radius_km": 10}
    ).json()
    assert far["results"] == []
    by_name = client.get("/api/v1/search", params={"name": "claire mart"}).json()
    assert len(by_name["results"]) == 1
    assert (
        client.get("/api/v1/search", params={"city": "Paris", "language": "de"}).json()["results"]
        == []
    )


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({}, "specialty"),
        ({"specialty": "astrology"}, "specialty"),
        ({"latitude": 48.8}, "longitude"),
        ({"city": "Paris", "sort": "distance"}, "sort"),
        ({"city": "Paris", "page": 0}, "page"),
        ({"city": "Paris", "radius_km": 5}, "radius_km"),
    ],
)
def test_search_bad_input(client: TestClient, params: dict[str, Any], field: str) -> None:
    assert_problem(client.get("/api/v1/search", params=params), 422, field)


def test_practice_management_over_http(client: TestClient, world: World) -> None:
    created = client.post(
        "/api/v1/practices",
        json={
            "name": "Cabinet Neuf",
            "address": "1 place Bellecour",
            "postcode": "69002",
            "city": "Lyon",
            "latitude": 45.7578,
            "longitude": 4.832,
        },
        headers=auth(world.stranger.token),
    )
    assert created.status_code == 201, created.text
    practice_id = created.json()["practice_id"]
    practitioner = client.post(
        f"/api/v1/practices/{practice_id}/practitioners",
        json={
            "first_name": "Paul",
            "last_name": "Durand",
            "specialty": "dentistry",
            "languages": ["fr", "it"],
        },
        headers=auth(world.stranger.token),
    )
    assert practitioner.status_code == 201, practitioner.text
    practitioner_id = practitioner.json()["practitioner_id"]
    visit_type = client.post(
        f"/api/v1/practices/{practice_id}/practitioners/{practitioner_id}/visit-types",
        json={"label": "Détartrage", "duration_minutes": 30},
        headers=auth(world.stranger.token),
    ).json()
    opening = client.post(
        f"/api/v1/practices/{practice_id}/practitioners/{practitioner_id}/openings",
        json={
            "weekday": 0,
            "start_minute": 540,
            "end_minute": 720,
            "visit_type_ids": [visit_type["visit_type_id"]],
        },
        headers=auth(world.stranger.token),
    )
    assert opening.status_code == 201, opening.text
    overlap = client.post(
        f"/api/v1/practices/{practice_id}/practitioners/{practitioner_id}/openings",
        json={
            "weekday": 0,
            "start_minute": 600,
            "end_minute": 660,
            "visit_type_ids": [visit_type["visit_type_id"]],
        },
        headers=auth(world.stranger.token),
    )
    assert_problem(overlap, 422, "start_minute")
    # Another practice's admin cannot touch it, and learns nothing about it.
    intruder = client.post(
        f"/api/v1/practices/{practice_id}/practitioners/{practitioner_id}/visit-types",
        json={"label": "X", "duration_minutes": 30},
        headers=auth(world.admin.token),
    )
    assert_problem(intruder, 404)
    bad_zone = client.post(
        "/api/v1/practices",
        json={
            "name": "Cabinet",
            "address": "rue",
            "postcode": "69002",
            "city": "Lyon",
            "latitude": 45.7,
            "longitude": 4.8,
            "timezone": "Mars/Olympus",
        },
        headers=auth(world.stranger.token),
    )
    assert_problem(bad_zone, 422, "timezone")


def test_practice_agenda_and_phone_booking(client: TestClient, world: World) -> None:
    caller = client.post(
        f"/api/v1/practices/{world.practice_id}/patients",
        json={"first_name": "Jean", "last_name": "Caller", "birth_date": "1970-01-02"},
        headers=auth(world.secretary.token),
    )
    assert caller.status_code == 201, caller.text
    found = client.get(
        f"/api/v1/practices/{world.practice_id}/patients",
        params={"query": "caller"},
        headers=auth(world.secretary.token),
    ).json()
    assert [p["patient_id"] for p in found] == [caller.json()["patient_id"]]
    unknown = client.post(
        f"/api/v1/practices/{world.practice_id}/appointments",
        json={
            "practitioner_id": str(world.practitioner_id),
            "duration_minutes": 15,
            "patient_id": str(world.stranger_patient_id),
            "starts_at": MON_0900.isoformat(),
        },
        headers=auth(world.secretary.token),
    )
    assert_problem(unknown, 404, "patient_id")
    phone = client.post(
        f"/api/v1/practices/{world.practice_id}/appointments",
        json={
            "practitioner_id": str(world.practitioner_id),
            "duration_minutes": 15,
            "patient_id": caller.json()["patient_id"],
            "starts_at": MON_0900.isoformat(),
        },
        headers=auth(world.secretary.token),
    )
    assert phone.status_code == 201, phone.text
    assert phone.json()["source"] == "practice"
    agenda = client.get(
        f"/api/v1/practices/{world.practice_id}/agenda",
        params={"from": "2026-03-02T00:00:00Z", "until": "2026-03-03T00:00:00Z"},
        headers=auth(world.secretary.token),
    )
    assert [a["appointment_id"] for a in agenda.json()] == [phone.json()["appointment_id"]]
    assert_problem(
        client.get(
            f"/api/v1/practices/{world.practice_id}/agenda",
            params={"from": "2026-03-02T00:00:00Z", "until": "2026-03-03T00:00:00Z"},
            headers=auth(world.holder.token),
        ),
        404,
    )


def test_relatives_over_http(client: TestClient, world: World) -> None:
    listed = client.get("/api/v1/me/patients", headers=auth(world.holder.token)).json()
    assert [p["relationship"] for p in listed] == ["self", "child"]
    added = client.post(
        "/api/v1/me/patients",
        json={
            "first_name": "Rose",
            "last_name": "Bernard",
            "birth_date": "1950-02-03",
            "relationship": "parent",
        },
        headers=auth(world.holder.token),
    )
    assert added.status_code == 201
    future = client.post(
        "/api/v1/me/patients",
        json={
            "first_name": "Rose",
            "last_name": "Bernard",
            "birth_date": "2999-02-03",
            "relationship": "parent",
        },
        headers=auth(world.holder.token),
    )
    assert_problem(future, 422, "birth_date")
    removed = client.delete(
        f"/api/v1/me/patients/{added.json()['patient_id']}", headers=auth(world.holder.token)
    )
    assert removed.status_code == 204
    assert_problem(
        client.delete(
            f"/api/v1/me/patients/{world.child_patient_id}", headers=auth(world.stranger.token)
        ),
        404,
    )
