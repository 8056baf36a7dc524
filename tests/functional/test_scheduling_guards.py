"""Every refusal of agenda management, through the services and over HTTP.

The HTTP models refuse most nonsense before a service runs (422 naming the field); the services
check again, for the CLI, the demo and every other caller, and name the same fields.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
from fastapi.testclient import TestClient

from colloque.clock import SettableClock
from colloque.errors import InvalidInput, NotFound, RuleViolation
from colloque.principal import ANONYMOUS
from colloque.scheduling.domain import OverrideKind
from colloque.scheduling.services import (
    AgendaRulesInput,
    do_add_practitioner,
    do_create_practice,
    do_update_agenda_rules,
    do_update_practice_settings,
)
from colloque.scheduling.specialties import SPECIALTY_LABELS, Specialty
from colloque.scheduling.timetable import (
    do_add_break,
    do_add_opening_range,
    do_add_override,
    do_add_visit_type,
)
from colloque.scheduling.timetable_editing import do_remove_opening, opening_version
from colloque.storage.engine import Database
from tests.factories import World, book, build_world
from tests.functional.http import app_client, bearer, problem

# T0 is Monday 2026-03-02 08:00 in Paris (UTC+1). Openings: 09:00-12:00 and 14:00-18:00.
MON_0900 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


@pytest.fixture
def world(db: Database, clock: SettableClock) -> World:
    return build_world(db, clock)


@pytest.fixture
def client(db: Database, clock: SettableClock) -> Iterator[TestClient]:
    with app_client(db, clock) as test_client:
        yield test_client


def refused_field(error: pytest.ExceptionInfo[InvalidInput]) -> str | None:
    return error.value.field


# --- practices and practitioners -----------------------------------------------------------


def test_creating_a_practice(db: Database, clock: SettableClock, world: World) -> None:
    place: dict[str, Any] = {
        "name": "Cabinet",
        "address": "1 rue Haute",
        "postcode": "69001",
        "city": "Lyon",
        "latitude": 45.76,
        "longitude": 4.83,
    }
    with pytest.raises(InvalidInput) as anonymous, db.write() as session:
        do_create_practice(session, now=clock.now(), principal=ANONYMOUS, **place)
    assert refused_field(anonymous) == "principal"
    principal = world.stranger.principal(db)
    for changes, field in (
        ({"postcode": "!!"}, "postcode"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
    ):
        with pytest.raises(InvalidInput) as caught, db.write() as session:
            do_create_practice(
                session, now=clock.now(), principal=principal, **{**place, **changes}
            )
        assert refused_field(caught) == field


def test_practice_settings_change_one_at_a_time(
    db: Database, clock: SettableClock, world: World
) -> None:
    principal = world.admin.principal(db)
    with db.write() as session:
        practice = do_update_practice_settings(
            session,
            now=clock.now(),
            principal=principal,
            practice_id=world.practice_id,
            cancel_cutoff_minutes=60,
            hold_minutes=10,
        )
        assert (practice.cancel_cutoff_minutes, practice.anti_hoarding_days) == (60, 6)
        assert practice.hold_minutes == 10
    with db.write() as session:
        practice = do_update_practice_settings(
            session, now=clock.now(), principal=principal, practice_id=world.practice_id
        )
        assert (practice.cancel_cutoff_minutes, practice.hold_minutes) == (60, 10)


@pytest.mark.parametrize("languages", [["fr", "xx"], [], [" "]])
def test_a_practitioner_speaks_known_languages(
    db: Database, clock: SettableClock, world: World, languages: list[str]
) -> None:
    with pytest.raises(InvalidInput) as caught, db.write() as session:
        do_add_practitioner(
            session,
            now=clock.now(),
            principal=world.admin.principal(db),
            practice_id=world.practice_id,
            first_name="Jeanne",
            last_name="Roux",
            specialty=Specialty.DERMATOLOGY,
            languages=languages,
        )
    assert refused_field(caught) == "languages"


@pytest.mark.parametrize(
    ("rules", "field"),
    [
        (AgendaRulesInput(slot_step_minutes=4), "slot_step_minutes"),
        (AgendaRulesInput(slot_step_minutes=241), "slot_step_minutes"),
        (AgendaRulesInput(min_notice_minutes=-1), "min_notice_minutes"),
        (AgendaRulesInput(max_horizon_days=0), "max_horizon_days"),
        (AgendaRulesInput(max_horizon_days=731), "max_horizon_days"),
        (AgendaRulesInput(buffer_after_minutes=-1), "buffer_after_minutes"),
        (AgendaRulesInput(buffer_after_minutes=241), "buffer_after_minutes"),
        (AgendaRulesInput(daily_cap=0), "daily_cap"),
    ],
)
def test_agenda_rules_are_checked(
    db: Database, clock: SettableClock, world: World, rules: AgendaRulesInput, field: str
) -> None:
    with pytest.raises(InvalidInput) as caught, db.write() as session:
        do_update_agenda_rules(
            session,
            now=clock.now(),
            principal=world.secretary.principal(db),
            practice_id=world.practice_id,
            practitioner_id=world.practitioner_id,
            rules=rules,
        )
    assert refused_field(caught) == field


def test_agenda_rules_apply_to_the_next_booking(
    db: Database, clock: SettableClock, world: World
) -> None:
    with db.write() as session:
        do_update_agenda_rules(
            session,
            now=clock.now(),
            principal=world.secretary.principal(db),
            practice_id=world.practice_id,
            practitioner_id=world.practitioner_id,
            rules=AgendaRulesInput(slot_step_minutes=15, min_notice_minutes=60 * 24 * 2),
        )
    with pytest.raises(RuleViolation, match="too soon"):
        book(db, clock, world, MON_0900 + timedelta(days=1))
    assert book(db, clock, world, MON_0900 + timedelta(days=3)).starts_at.day == 5


def test_an_agenda_that_does_not_exist(db: Database, clock: SettableClock, world: World) -> None:
    elsewhere = uuid.uuid4()
    with pytest.raises(NotFound) as caught, db.write() as session:
        do_add_visit_type(
            session,
            now=clock.now(),
            principal=world.secretary.principal(db),
            practice_id=world.practice_id,
            practitioner_id=elsewhere,
            label="Consultation",
            duration_minutes=20,
        )
    assert caught.value.detail == "practitioner not found at this practice"


@pytest.mark.parametrize(
    ("label", "minutes", "field"),
    [("Bilan", 4, "duration_minutes"), ("Bilan", 481, "duration_minutes"), ("  ", 20, "label")],
)
def test_visit_types_are_checked(
    db: Database, clock: SettableClock, world: World, label: str, minutes: int, field: str
) -> None:
    with pytest.raises(InvalidInput) as caught, db.write() as session:
        do_add_visit_type(
            session,
            now=clock.now(),
            principal=world.secretary.principal(db),
            practice_id=world.practice_id,
            practitioner_id=world.practitioner_id,
            label=label,
            duration_minutes=minutes,
        )
    assert refused_field(caught) == field


# --- openings, breaks, overrides -------------------------------------------------------------


@pytest.mark.parametrize(
    ("weekday", "start", "end", "types", "field"),
    [
        (7, 60, 120, "known", "weekday"),
        (-1, 60, 120, "known", "weekday"),
        (5, 120, 120, "known", "start_minute"),
        (5, 120, 60, "known", "start_minute"),
        (5, 60, 24 * 60 + 1, "known", "start_minute"),
        (5, 60, 120, "none", "visit_type_ids"),
        (5, 60, 120, "unknown", "visit_type_ids"),
    ],
)
def test_openings_are_checked(
    db: Database,
    clock: SettableClock,
    world: World,
    weekday: int,
    start: int,
    end: int,
    types: str,
    field: str,
) -> None:
    visit_type_ids = {
        "known": [world.consultation_id],
        "none": [],
        "unknown": [world.consultation_id, uuid.uuid4()],
    }[types]
    with pytest.raises(InvalidInput) as caught, db.write() as session:
        do_add_opening_range(
            session,
            now=clock.now(),
            principal=world.secretary.principal(db),
            practice_id=world.practice_id,
            practitioner_id=world.practitioner_id,
            weekday=weekday,
            start_minute=start,
            end_minute=end,
            visit_type_ids=visit_type_ids,
        )
    assert refused_field(caught) == field


@pytest.mark.parametrize(("weekday", "field"), [(7, "weekday"), (2, "start_minute")])
def test_breaks_are_checked(
    db: Database, clock: SettableClock, world: World, weekday: int, field: str
) -> None:
    with pytest.raises(InvalidInput) as caught, db.write() as session:
        do_add_break(
            session,
            now=clock.now(),
            principal=world.secretary.principal(db),
            practice_id=world.practice_id,
            practitioner_id=world.practitioner_id,
            weekday=weekday,
            start_minute=13 * 60,
            end_minute=12 * 60,
        )
    assert refused_field(caught) == field


D = date(2026, 3, 10)


@pytest.mark.parametrize(
    ("kind", "first", "last", "start", "end", "field"),
    [
        (OverrideKind.ABSENCE, D, D - timedelta(days=1), None, None, "last_day"),
        (OverrideKind.ABSENCE, D, D + timedelta(days=367), None, None, "last_day"),
        (OverrideKind.ABSENCE, D, D, 600, None, "end_minute"),
        (OverrideKind.ABSENCE, D, D, None, 600, "end_minute"),
        (OverrideKind.ABSENCE, D, D, 700, 600, "start_minute"),
        (OverrideKind.EXTRA_OPENING, D, D, None, None, "start_minute"),
        (OverrideKind.EXTRA_OPENING, D, D, 1200, 1260, "visit_type_ids"),
        (OverrideKind.HOLIDAY, D, D, 600, 700, "start_minute"),
    ],
)
def test_overrides_are_checked(
    db: Database,
    clock: SettableClock,
    world: World,
    kind: OverrideKind,
    first: date,
    last: date,
    start: int | None,
    end: int | None,
    field: str,
) -> None:
    with pytest.raises(InvalidInput) as caught, db.write() as session:
        do_add_override(
            session,
            now=clock.now(),
            principal=world.secretary.principal(db),
            practice_id=world.practice_id,
            practitioner_id=world.practitioner_id,
            kind=kind,
            first_day=first,
            last_day=last,
            start_minute=start,
            end_minute=end,
        )
    assert refused_field(caught) == field


def test_an_absence_of_a_few_hours_and_a_year_long_holiday(
    db: Database, clock: SettableClock, world: World
) -> None:
    principal = world.secretary.principal(db)
    with db.write() as session:
        do_add_override(
            session,
            now=clock.now(),
            principal=principal,
            practice_id=world.practice_id,
            practitioner_id=world.practitioner_id,
            kind=OverrideKind.ABSENCE,
            first_day=date(2026, 3, 3),
            last_day=date(2026, 3, 3),
            start_minute=9 * 60,
            end_minute=10 * 60,
        )
        do_add_override(
            session,
            now=clock.now(),
            principal=principal,
            practice_id=world.practice_id,
            practitioner_id=world.practitioner_id,
            kind=OverrideKind.HOLIDAY,
            first_day=date(2026, 6, 1),
            last_day=date(2027, 6, 2),
        )
    tuesday = MON_0900 + timedelta(days=1)
    with pytest.raises(RuleViolation, match="absent"):
        book(db, clock, world, tuesday)
    assert book(db, clock, world, tuesday + timedelta(hours=1)).status == "booked"


def test_removing_an_opening(db: Database, clock: SettableClock, world: World) -> None:
    principal = world.secretary.principal(db)
    with db.write() as session:
        opening = do_add_opening_range(
            session,
            now=clock.now(),
            principal=principal,
            practice_id=world.practice_id,
            practitioner_id=world.practitioner_id,
            weekday=5,
            start_minute=9 * 60,
            end_minute=24 * 60,
            visit_type_ids=[world.consultation_id],
        )
        opening_id = opening.opening_id
        version = opening_version(opening, [world.consultation_id])
    saturday = MON_0900 + timedelta(days=5, hours=14)  # 23:00 in Paris, until midnight
    assert book(db, clock, world, saturday).status == "booked"
    with db.write() as session:
        do_remove_opening(
            session,
            now=clock.now(),
            principal=principal,
            practice_id=world.practice_id,
            opening_id=opening_id,
            expected_version=version,
        )
    for missing in (opening_id, uuid.uuid4()):
        with pytest.raises(NotFound) as caught, db.write() as session:
            do_remove_opening(
                session,
                now=clock.now(),
                principal=principal,
                practice_id=world.practice_id,
                opening_id=missing,
                expected_version=version,
            )
        assert caught.value.detail == "opening not found"
    with pytest.raises(RuleViolation, match="does not see patients"):
        book(db, clock, world, saturday + timedelta(days=7))


# --- over HTTP -------------------------------------------------------------------------------


def test_public_pages(client: TestClient, world: World) -> None:
    specialties = client.get("/api/v1/specialties").json()
    assert [s["code"] for s in specialties] == [code.value for code in SPECIALTY_LABELS]
    practice = client.get(f"/api/v1/practices/{world.practice_id}")
    assert practice.status_code == 200
    assert practice.json()["timezone"] == "Europe/Paris"
    assert "cancel_cutoff_minutes" not in practice.json()
    problem(client.get(f"/api/v1/practices/{uuid.uuid4()}"), 404)
    slots = f"/api/v1/practices/{world.practice_id}/practitioners/{world.practitioner_id}/slots"
    problem(
        client.get(slots, params={"visit_type_id": str(world.urgent_id)}),  # practice only
        404,
        field="visit_type_id",
    )
    problem(
        client.get(slots, params={"visit_type_id": str(uuid.uuid4())}), 404, field="visit_type_id"
    )
    elsewhere = f"/api/v1/practices/{world.practice_id}/practitioners/{uuid.uuid4()}/slots"
    problem(client.get(elsewhere, params={"duration_minutes": 20}), 404)


def agenda_url(world: World, what: str) -> str:
    return f"/api/v1/practices/{world.practice_id}/practitioners/{world.practitioner_id}/{what}"


def test_agenda_management_over_http(client: TestClient, world: World) -> None:
    secretary, admin = bearer(world.secretary), bearer(world.admin)
    settings = f"/api/v1/practices/{world.practice_id}/settings"
    read = client.get(settings, headers=admin).headers["etag"]
    problem(
        client.patch(settings, json={"hold_minutes": 5}, headers=secretary | {"If-Match": read}),
        403,
    )
    changed = client.patch(settings, json={"hold_minutes": 5}, headers=admin | {"If-Match": read})
    assert changed.status_code == 200, changed.text
    assert (changed.json()["hold_minutes"], changed.json()["anti_hoarding_days"]) == (5, 6)
    now = {"If-Match": changed.headers["etag"]}
    problem(
        client.patch(settings, json={"hold_minutes": 0}, headers=admin | now),
        422,
        field="hold_minutes",
    )

    rules = {
        "slot_step_minutes": 10,
        "min_notice_minutes": 0,
        "max_horizon_days": 90,
        "buffer_after_minutes": 0,
        "daily_cap": 12,
    }
    current = {
        "If-Match": client.get(agenda_url(world, "rules"), headers=secretary).headers["etag"]
    }
    problem(
        client.put(agenda_url(world, "rules"), json=rules, headers=bearer(world.doctor) | current),
        403,
    )
    put = client.put(agenda_url(world, "rules"), json=rules, headers=secretary | current)
    assert put.status_code == 200, put.text
    assert {key: put.json()[key] for key in rules} == rules
    problem(
        client.put(
            agenda_url(world, "rules"),
            json={**rules, "slot_step_minutes": 1},
            headers=secretary | {"If-Match": put.headers["etag"]},
        ),
        422,
        field="slot_step_minutes",
    )

    pause = {"weekday": 0, "start_minute": 10 * 60, "end_minute": 10 * 60 + 30}
    made = client.post(agenda_url(world, "breaks"), json=pause, headers=secretary)
    assert made.status_code == 201, made.text
    assert UUID(made.json()["id"])
    problem(
        client.post(agenda_url(world, "breaks"), json={**pause, "weekday": 7}, headers=secretary),
        422,
        field="weekday",
    )

    opening = {
        "weekday": 5,
        "start_minute": 9 * 60,
        "end_minute": 12 * 60,
        "visit_type_ids": [str(world.consultation_id)],
    }
    created = client.post(agenda_url(world, "openings"), json=opening, headers=secretary)
    assert created.status_code == 201, created.text
    where = f"/api/v1/practices/{world.practice_id}/openings/{created.json()['id']}"
    opening_read = {"If-Match": client.get(where, headers=secretary).headers["etag"]}
    problem(client.delete(where, headers=bearer(world.doctor) | opening_read), 403)
    assert client.delete(where, headers=secretary | opening_read).status_code == 204
    problem(client.delete(where, headers=secretary | opening_read), 404)

    absence = {"kind": "absence", "first_day": "2026-03-10", "last_day": "2026-03-11"}
    override = client.post(agenda_url(world, "overrides"), json=absence, headers=secretary)
    assert override.status_code == 201, override.text
    backwards = {**absence, "last_day": "2026-03-09"}
    problem(
        client.post(agenda_url(world, "overrides"), json=backwards, headers=secretary),
        422,
        field="last_day",
    )
    extra: dict[str, Any] = {
        "kind": "extra_opening",
        "first_day": "2026-03-14",
        "last_day": "2026-03-14",
    }
    problem(
        client.post(agenda_url(world, "overrides"), json=extra, headers=secretary),
        422,
        field="start_minute",
    )
    extra |= {"start_minute": 600, "end_minute": 720, "visit_type_ids": [str(world.video_id)]}
    assert (
        client.post(agenda_url(world, "overrides"), json=extra, headers=secretary).status_code
        == 201
    )
    slots = client.get(
        agenda_url(world, "slots"),
        params={
            "visit_type_id": str(world.video_id),
            "from": "2026-03-14T00:00:00+01:00",
            "days": 1,
        },
    )
    assert slots.status_code == 200, slots.text
    assert slots.json()[0]["starts_at"] == "2026-03-14T10:00:00+01:00"  # the practice's offset
    problem(
        client.post(agenda_url(world, "overrides"), json=extra, headers=bearer(world.holder)), 404
    )
