"""Inputs the API refuses with a 422 naming the field, and never a 500: instants and days out of
the horizon or given as numbers, control characters in text, unknown time zones, a patient
giving the practice's cancel reason, a name search with no letters. Nothing is half-written."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from colloque.api.app import create_app
from colloque.api.limits import KIB, MIB
from colloque.clock import SettableClock
from colloque.config import Settings
from colloque.storage.engine import Database
from tests.factories import World, build_world

MON_0900 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)

#: Instants that overflowed the calendar arithmetic, numbers read as 1970, the far future.
BAD_INSTANTS: list[Any] = [
    "9999-12-31T23:59:59Z",
    "0001-01-01T00:00:00Z",
    "9999-12-31T23:59:59-14:00",
    "0001-01-01T00:00:00+14:00",
    "2200-12-31T23:59:59-14:00",  # inside the static bound, beyond ten years from now
    "2001-01-01T00:00:00+14:00",
    12345,
    "12345",
    1.5,
]
BAD_DAYS: list[Any] = ["0001-01-01", "9999-12-31", "2150-01-01", 20270101, "20270101"]


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
    if field is not None:
        assert body["field"] == field, body
    return body


def post_json(client: TestClient, url: str, body: dict[str, Any], token: str) -> Any:
    """JSON with every non-ASCII character escaped, so lone surrogates travel too."""
    headers = {**auth(token), "Content-Type": "application/json"}
    return client.post(url, content=json.dumps(body), headers=headers)


def booking(world: World, starts_at: Any, **extra: Any) -> dict[str, Any]:
    return {
        "practitioner_id": str(world.practitioner_id),
        "duration_minutes": 20,
        "patient_id": str(world.holder_patient_id),
        "starts_at": starts_at,
        **extra,
    }


def my_appointments(client: TestClient, world: World) -> list[Any]:
    listed: list[Any] = client.get(
        "/api/v1/me/appointments", headers=auth(world.holder.token)
    ).json()
    return listed


# --- instants and days ------------------------------------------------------------------------


@pytest.mark.parametrize("starts_at", BAD_INSTANTS)
def test_booking_instants_are_bounded(client: TestClient, world: World, starts_at: Any) -> None:
    online = client.post(
        "/api/v1/appointments",
        json=booking(world, starts_at, practice_id=str(world.practice_id)),
        headers=auth(world.holder.token),
    )
    assert_problem(online, 422, "starts_at")
    phone = client.post(
        f"/api/v1/practices/{world.practice_id}/appointments",
        json=booking(world, starts_at),
        headers=auth(world.secretary.token),
    )
    assert_problem(phone, 422, "starts_at")
    assert my_appointments(client, world) == []


@pytest.mark.parametrize("starts_at", BAD_INSTANTS)
def test_reschedule_instants_are_bounded(client: TestClient, world: World, starts_at: Any) -> None:
    booked = client.post(
        "/api/v1/appointments",
        json=booking(world, MON_0900.isoformat(), practice_id=str(world.practice_id)),
        headers=auth(world.holder.token),
    )
    assert booked.status_code == 201, booked.text
    url = (
        f"/api/v1/practices/{world.practice_id}/appointments/"
        f"{booked.json()['appointment_id']}/reschedule"
    )
    for token in (world.holder.token, world.secretary.token):
        moved = client.post(url, json={"starts_at": starts_at}, headers=auth(token))
        assert_problem(moved, 422, "starts_at")
    assert [a["starts_at"] for a in my_appointments(client, world)] == [
        MON_0900.isoformat().replace("+00:00", "Z")
    ]


@pytest.mark.parametrize(
    "params",
    [
        {"from": "9999-12-31T23:00:00Z", "days": 31},
        {"from": "9999-12-31T23:59:59-14:00", "days": 1},
        {"from": "0001-01-01T00:00:00+14:00", "days": 31},
        {"from": "2100-01-01T00:00:00Z", "days": 31},
        {"from": "12345"},
        {"from": "1e9"},
    ],
)
def test_slot_window_is_bounded(client: TestClient, world: World, params: dict[str, Any]) -> None:
    response = client.get(
        f"/api/v1/practices/{world.practice_id}/practitioners/{world.practitioner_id}/slots",
        params={"visit_type_id": str(world.consultation_id), **params},
    )
    assert_problem(response, 422, "from")


@pytest.mark.parametrize(
    ("start", "until", "field"),
    [
        ("9999-12-31T00:00:00Z", "9999-12-31T23:00:00Z", "from"),
        ("0001-01-01T00:00:00Z", "0001-01-02T00:00:00Z", "from"),
        ("2150-01-01T00:00:00Z", "2150-01-02T00:00:00Z", "from"),
        ("2026-03-02T00:00:00Z", "9999-12-31T23:59:59-14:00", "until"),
        ("12345", "2026-03-03T00:00:00Z", "from"),
    ],
)
def test_agenda_window_is_bounded(
    client: TestClient, world: World, start: str, until: str, field: str
) -> None:
    response = client.get(
        f"/api/v1/practices/{world.practice_id}/agenda",
        params={"from": start, "until": until},
        headers=auth(world.secretary.token),
    )
    assert_problem(response, 422, field)


@pytest.mark.parametrize("day", BAD_DAYS)
@pytest.mark.parametrize("field", ["first_day", "last_day"])
def test_waitlist_days_are_bounded(client: TestClient, world: World, day: Any, field: str) -> None:
    body: dict[str, Any] = {
        "practice_id": str(world.practice_id),
        "practitioner_id": str(world.practitioner_id),
        "duration_minutes": 20,
        "patient_id": str(world.holder_patient_id),
        "first_day": "2026-03-02",
        "last_day": "2026-03-20",
        field: day,
    }
    response = client.post("/api/v1/waitlist", json=body, headers=auth(world.holder.token))
    assert_problem(response, 422, field)
    assert client.get("/api/v1/me/waitlist", headers=auth(world.holder.token)).json() == []


@pytest.mark.parametrize("day", BAD_DAYS)
def test_absence_days_are_bounded(client: TestClient, world: World, day: Any) -> None:
    response = client.post(
        f"/api/v1/practices/{world.practice_id}/practitioners/{world.practitioner_id}/overrides",
        json={"kind": "absence", "first_day": day, "last_day": "2026-03-03"},
        headers=auth(world.admin.token),
    )
    assert_problem(response, 422, "first_day")


@pytest.mark.parametrize("birth_date", [20100101, "20100101", "1899-12-31", "0001-01-01"])
def test_birth_dates_are_bounded(client: TestClient, world: World, birth_date: Any) -> None:
    mine = client.post(
        "/api/v1/me/patients",
        json={
            "first_name": "Rose",
            "last_name": "Bernard",
            "birth_date": birth_date,
            "relationship": "parent",
        },
        headers=auth(world.holder.token),
    )
    assert_problem(mine, 422, "birth_date")
    desk = client.post(
        f"/api/v1/practices/{world.practice_id}/patients",
        json={"first_name": "Jean", "last_name": "Caller", "birth_date": birth_date},
        headers=auth(world.secretary.token),
    )
    assert_problem(desk, 422, "birth_date")
    listed = client.get("/api/v1/me/patients", headers=auth(world.holder.token)).json()
    assert [p["relationship"] for p in listed] == ["self", "child"]


# --- text -------------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", ["A\u0000B", "A\u0007", "A\nB", "A\u009bB", "A\ud800"])
def test_control_characters_are_refused_in_bodies(
    client: TestClient, world: World, bad: str
) -> None:
    relative = post_json(
        client,
        "/api/v1/me/patients",
        {
            "first_name": bad,
            "last_name": "Bernard",
            "birth_date": "1950-02-03",
            "relationship": "parent",
        },
        world.holder.token,
    )
    assert_problem(relative, 422, "first_name")
    assert "Bernard" not in relative.text  # the input is never echoed
    practice = post_json(
        client,
        "/api/v1/practices",
        {
            "name": f"Cab{bad}inet",
            "address": "1 place Bellecour",
            "postcode": "69002",
            "city": "Lyon",
            "latitude": 45.7578,
            "longitude": 4.832,
        },
        world.stranger.token,
    )
    assert_problem(practice, 422, "name")
    practitioner = post_json(
        client,
        f"/api/v1/practices/{world.practice_id}/practitioners",
        {
            "first_name": "Paul",
            "last_name": "Durand",
            "specialty": "general_practice",
            "languages": ["fr", bad],
        },
        world.admin.token,
    )
    assert_problem(practitioner, 422, "languages")
    listed = client.get("/api/v1/me/patients", headers=auth(world.holder.token)).json()
    assert [p["relationship"] for p in listed] == ["self", "child"]


@pytest.mark.parametrize("bad", ["Du\u0000val", "Du\u001bval", "Du\tval"])
def test_control_characters_are_refused_in_query_strings(
    client: TestClient, world: World, bad: str
) -> None:
    assert_problem(client.get("/api/v1/search", params={"name": bad}), 422, "name")
    assert_problem(client.get("/api/v1/search", params={"city": bad}), 422, "city")
    assert_problem(
        client.get("/api/v1/search", params={"specialty": "general_practice", "visit_type": bad}),
        422,
        "visit_type",
    )
    found = client.get(
        f"/api/v1/practices/{world.practice_id}/patients",
        params={"query": bad},
        headers=auth(world.secretary.token),
    )
    assert_problem(found, 422, "query")


def test_search_name_without_letters_matches_nothing(client: TestClient, world: World) -> None:
    for name in ("%%", "__", "%_%", "\\%"):
        assert_problem(client.get("/api/v1/search", params={"name": name}), 422, "name")
    assert_problem(client.get("/api/v1/search", params={"city": "%%"}), 422, "city")
    # Names match on their letters and digits only: symbols are separators, never patterns.
    found = client.get("/api/v1/search", params={"name": "%a%"})
    assert found.status_code == 200, found.text
    assert found.json() == client.get("/api/v1/search", params={"name": " a "}).json()


# --- time zones and cancel reasons ------------------------------------------------------------


@pytest.mark.parametrize("zone", ["localtime", "Factory", "posixrules", "right/UTC", "../UTC"])
def test_time_zones_are_iana_names(client: TestClient, world: World, zone: str) -> None:
    response = client.post(
        "/api/v1/practices",
        json={
            "name": "Cabinet Neuf",
            "address": "1 place Bellecour",
            "postcode": "69002",
            "city": "Lyon",
            "latitude": 45.7578,
            "longitude": 4.832,
            "timezone": zone,
        },
        headers=auth(world.stranger.token),
    )
    assert_problem(response, 422, "timezone")


@pytest.mark.parametrize("reason", ["practice_closed", "practitioner_unavailable"])
def test_patient_cannot_give_the_practice_reason(
    client: TestClient, world: World, reason: str
) -> None:
    booked = client.post(
        "/api/v1/appointments",
        json=booking(
            world, (MON_0900 + timedelta(days=1)).isoformat(), practice_id=str(world.practice_id)
        ),
        headers=auth(world.holder.token),
    )
    assert booked.status_code == 201, booked.text
    url = f"/api/v1/practices/{world.practice_id}/appointments/{booked.json()['appointment_id']}"
    refused = client.post(
        url + "/cancel", json={"reason": reason}, headers=auth(world.holder.token)
    )
    assert assert_problem(refused, 422, "reason")["rule"] == "practice_only_reason"
    assert client.get(url, headers=auth(world.holder.token)).json()["status"] == "booked"
    by_desk = client.post(
        url + "/cancel", json={"reason": reason}, headers=auth(world.secretary.token)
    )
    assert by_desk.status_code == 200, by_desk.text
    assert by_desk.json()["cancel_reason"] == reason


# --- body sizes -------------------------------------------------------------------------------


def test_a_large_body_is_refused_before_it_is_read(client: TestClient) -> None:
    body = b'{"email": "' + b"a" * (2 * MIB) + b'"}'
    response = client.post(
        "/api/v1/auth/prelogin", content=body, headers={"Content-Type": "application/json"}
    )
    problem = assert_problem(response, 413, "body")
    assert problem["type"].endswith("/too-large")
    assert "64 KiB" in problem["detail"]


def test_a_streamed_body_is_counted(client: TestClient) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"email": "'
        for _ in range(100):
            yield b"a" * KIB
        yield b'"}'

    response = client.post(
        "/api/v1/auth/prelogin", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert "content-length" not in response.request.headers
    assert_problem(response, 413, "body")


def test_sealed_bodies_have_room_for_their_envelope(client: TestClient, world: World) -> None:
    def sealed(size: int) -> dict[str, Any]:
        return booking(
            world,
            MON_0900.isoformat(),
            practice_id=str(world.practice_id),
            sealed_reason={"envelope": "A" * size, "wraps": ["A" * 64]},
        )

    # An envelope at its largest (70,000 bytes, as base64url) is parsed and judged on its merits.
    fits = client.post(
        "/api/v1/appointments", json=sealed(93_400), headers=auth(world.holder.token)
    )
    assert fits.status_code != 413, fits.text
    too_big = client.post(
        "/api/v1/appointments", json=sealed(300 * KIB), headers=auth(world.holder.token)
    )
    assert_problem(too_big, 413, "body")
    # Elsewhere the default limit holds.
    relative = client.post(
        "/api/v1/me/patients",
        json={"first_name": "A" * 70 * KIB, "last_name": "B", "birth_date": "1950-01-01"},
        headers=auth(world.holder.token),
    )
    assert_problem(relative, 413, "body")
    assert my_appointments(client, world) == []


# --- duplicates -------------------------------------------------------------------------------


def test_a_second_practice_patient_asks_for_confirmation(client: TestClient, world: World) -> None:
    url = f"/api/v1/practices/{world.practice_id}/patients"
    person = {"first_name": "Jean", "last_name": "Caller", "birth_date": "1970-01-02"}
    first = client.post(url, json=person, headers=auth(world.secretary.token))
    assert first.status_code == 201, first.text
    # The same person, spelt with other case and accents: the existing record is named.
    again = client.post(
        url,
        json={**person, "first_name": "JEAN", "last_name": "Callér"},
        headers=auth(world.secretary.token),
    )
    problem = assert_problem(again, 409, "confirm_duplicate")
    assert problem["existing_id"] == first.json()["patient_id"]
    found = client.get(url, params={"query": "caller"}, headers=auth(world.secretary.token))
    assert [p["patient_id"] for p in found.json()] == [first.json()["patient_id"]]
    # Another birth date is another person; a confirmed homonym is registered.
    other = client.post(
        url, json={**person, "birth_date": "1971-01-02"}, headers=auth(world.secretary.token)
    )
    assert other.status_code == 201, other.text
    confirmed = client.post(
        url, json={**person, "confirm_duplicate": True}, headers=auth(world.secretary.token)
    )
    assert confirmed.status_code == 201, confirmed.text
    found = client.get(url, params={"query": "caller"}, headers=auth(world.secretary.token))
    assert len(found.json()) == 3


def test_an_identical_waitlist_entry_is_refused(client: TestClient, world: World) -> None:
    body: dict[str, Any] = {
        "practice_id": str(world.practice_id),
        "practitioner_id": str(world.practitioner_id),
        "duration_minutes": 20,
        "patient_id": str(world.holder_patient_id),
        "first_day": "2026-03-02",
        "last_day": "2026-03-20",
    }
    first = client.post("/api/v1/waitlist", json=body, headers=auth(world.holder.token))
    assert first.status_code == 201, first.text
    again = client.post("/api/v1/waitlist", json=body, headers=auth(world.holder.token))
    assert assert_problem(again, 409)["existing_id"] == first.json()["entry_id"]
    wider = client.post(
        "/api/v1/waitlist",
        json={**body, "last_day": "2026-03-21"},
        headers=auth(world.holder.token),
    )
    assert wider.status_code == 201, wider.text
    assert len(client.get("/api/v1/me/waitlist", headers=auth(world.holder.token)).json()) == 2
    # Once the first entry is withdrawn, the same wish may be made again.
    left = client.delete(
        f"/api/v1/practices/{world.practice_id}/waitlist/{first.json()['entry_id']}",
        headers=auth(world.holder.token),
    )
    assert left.status_code == 200, left.text
    anew = client.post("/api/v1/waitlist", json=body, headers=auth(world.holder.token))
    assert anew.status_code == 201, anew.text
