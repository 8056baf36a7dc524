"""Slots and the practice agenda in local days: a plain date is a day of the practice's time zone
(from its first instant), and every instant of the answer carries the practice's offset."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from itertools import pairwise
from typing import Any

import pytest
from fastapi.testclient import TestClient

from colloque.accounts.config import TEST_COST
from colloque.accounts.demo import do_create_demo_login
from colloque.booking.access import list_practice_agenda
from colloque.booking.rules import Source
from colloque.client import ColloqueClient
from colloque.clock import SettableClock
from colloque.errors import NotFound
from colloque.principal import Membership, Principal, Role
from colloque.scheduling.domain import OverrideKind
from colloque.scheduling.services import AgendaRulesInput
from colloque.scheduling.timetable import do_add_override
from colloque.storage.engine import Database
from tests.factories import World, book, build_world, register_at_practice
from tests.functional.http import app_client, bearer, problem

# The clock starts on Monday 2026-03-02 at 08:00 in Paris. Paris springs forward on Sunday
# 2026-03-29 (02:00 CET -> 03:00 CEST) and falls back on Sunday 2026-10-25 (03:00 -> 02:00).
SPRING = date(2026, 3, 29)
AUTUMN = date(2026, 10, 25)
RULES = AgendaRulesInput(slot_step_minutes=15, min_notice_minutes=60, max_horizon_days=365)


@pytest.fixture
def client(db: Database, clock: SettableClock) -> Iterator[TestClient]:
    with app_client(db, clock) as test_client:
        yield test_client


def open_whole_days(
    db: Database, clock: SettableClock, world: World, first: date, last: date
) -> None:
    """Consultations from midnight to midnight, so that a day's first instant is a slot."""
    with db.write() as session:
        do_add_override(
            session,
            now=clock.now(),
            principal=world.admin.principal(db),
            practice_id=world.practice_id,
            practitioner_id=world.practitioner_id,
            kind=OverrideKind.EXTRA_OPENING,
            first_day=first,
            last_day=last,
            start_minute=0,
            end_minute=24 * 60,
            visit_type_ids=[world.consultation_id],
        )


def slots(client: TestClient, world: World, **params: Any) -> list[dict[str, str]]:
    answer = client.get(
        f"/api/v1/practices/{world.practice_id}/practitioners/{world.practitioner_id}/slots",
        params={"visit_type_id": str(world.consultation_id), **params},
    )
    assert answer.status_code == 200, answer.text
    found: list[dict[str, str]] = answer.json()
    return found


def agenda(client: TestClient, world: World, **params: str) -> Any:
    return client.get(
        f"/api/v1/practices/{world.practice_id}/agenda",
        params=params,
        headers=bearer(world.secretary),
    )


def instants(texts: list[str]) -> list[datetime]:
    return [datetime.fromisoformat(text) for text in texts]


def offsets(texts: list[str]) -> set[str]:
    return {text[-6:] for text in texts}


def assert_increasing(texts: list[str]) -> None:
    moments = instants(texts)
    assert all(a < b for a, b in pairwise(moments)), texts


# --- slots ------------------------------------------------------------------------------------


def test_a_spring_forward_day_of_slots(
    db: Database, clock: SettableClock, client: TestClient
) -> None:
    world = build_world(db, clock, rules=RULES)
    open_whole_days(db, clock, world, date(2026, 3, 28), date(2026, 3, 30))
    day = slots(client, world, **{"from": SPRING.isoformat(), "days": 1})
    starts = [s["starts_at"] for s in day]
    ends = [s["ends_at"] for s in day]
    assert starts[0] == "2026-03-29T00:00:00+01:00"
    assert "2026-03-29T01:45:00+01:00" in starts  # ends at 03:05 CEST, twenty minutes later
    assert "2026-03-29T03:00:00+02:00" in starts
    assert not any(s.startswith("2026-03-29T02:") for s in starts)  # no such wall time
    assert starts[-1] == "2026-03-29T23:30:00+02:00"
    assert ends[-1] == "2026-03-29T23:50:00+02:00"
    assert offsets(starts) == {"+01:00", "+02:00"}
    assert_increasing(starts)
    # Two local days are this one and the one before, nothing of the Monday.
    two = slots(client, world, **{"from": "2026-03-28", "days": 2})
    assert [s["starts_at"] for s in two if s["starts_at"].startswith("2026-03-29")] == starts
    assert {s["starts_at"][:10] for s in two} == {"2026-03-28", "2026-03-29"}
    # The same first instant given as an instant, in UTC, answers the same.
    assert slots(client, world, **{"from": "2026-03-28T23:00:00Z", "days": 1})[0] == day[0]


def test_a_fall_back_day_of_slots(db: Database, clock: SettableClock, client: TestClient) -> None:
    world = build_world(db, clock, rules=RULES)
    open_whole_days(db, clock, world, AUTUMN, AUTUMN)
    starts = [
        s["starts_at"] for s in slots(client, world, **{"from": AUTUMN.isoformat(), "days": 1})
    ]
    assert starts[0] == "2026-10-25T00:00:00+02:00"
    assert starts[-1] == "2026-10-25T23:30:00+01:00"
    assert offsets(starts) == {"+02:00", "+01:00"}
    assert {s[:10] for s in starts} == {"2026-10-25"}
    assert_increasing(starts)  # in time, though the wall clock goes back an hour


@pytest.mark.parametrize(
    ("zone", "day", "first"),
    [
        # Montreal springs forward on Sunday 2026-03-08.
        ("America/Montreal", "2026-03-06", "2026-03-06T09:00:00-05:00"),
        ("America/Montreal", "2026-03-09", "2026-03-09T09:00:00-04:00"),
        # In Auckland it is already 20:00 on Monday 2026-03-02: its slots are gone. Auckland falls
        # back on Sunday 2026-04-05.
        ("Pacific/Auckland", "2026-03-03", "2026-03-03T09:00:00+13:00"),
        ("Pacific/Auckland", "2026-04-06", "2026-04-06T09:00:00+12:00"),
    ],
)
def test_a_day_is_the_practice_s_own(
    db: Database, clock: SettableClock, client: TestClient, zone: str, day: str, first: str
) -> None:
    world = build_world(db, clock, rules=RULES, timezone=zone)
    found = slots(client, world, **{"from": day, "days": 1})
    assert found[0]["starts_at"] == first
    assert {s["starts_at"][:10] for s in found} == {day}
    assert offsets([s["ends_at"] for s in found]) == {first[-6:]}


def test_a_past_day_has_no_slots_left(
    db: Database, clock: SettableClock, client: TestClient
) -> None:
    world = build_world(db, clock, rules=RULES, timezone="Pacific/Auckland")
    assert slots(client, world, **{"from": "2026-03-02", "days": 1}) == []


def test_the_client_asks_for_a_local_day(
    db: Database, clock: SettableClock, client: TestClient
) -> None:
    world = build_world(db, clock, rules=RULES, timezone="America/Montreal")
    with db.write() as session:
        do_create_demo_login(
            session,
            now=clock.now(),
            email="local.day@example.test",
            display_name="Local Day",
            password="tilleul-marmotte-horizon-local",
            kdf_cost=TEST_COST,
            insecure_allow_weak_cost=True,
        )
    colloque = ColloqueClient(http=client, insecure_allow_weak_cost=True)
    colloque.log_in("local.day@example.test", "tilleul-marmotte-horizon-local")
    starts = colloque.free_slots(
        practice_id=world.practice_id,
        practitioner_id=world.practitioner_id,
        visit_type_id=world.consultation_id,
        start=date(2026, 3, 9),
        days=1,
    )
    assert starts[0].isoformat() == "2026-03-09T09:00:00-04:00"


# --- the agenda -------------------------------------------------------------------------------


def test_the_agenda_of_local_days(db: Database, clock: SettableClock, client: TestClient) -> None:
    world = build_world(db, clock, rules=RULES)
    open_whole_days(db, clock, world, date(2026, 3, 28), date(2026, 3, 30))
    for starts_at, patient_id in (
        (datetime(2026, 3, 28, 22, 40, tzinfo=UTC), world.holder_patient_id),  # Sat 23:40 CET
        (datetime(2026, 3, 28, 23, 0, tzinfo=UTC), world.child_patient_id),  # Sun 00:00 CET
        (datetime(2026, 3, 29, 21, 40, tzinfo=UTC), world.stranger_patient_id),  # Sun 23:40 CEST
        (datetime(2026, 3, 29, 22, 0, tzinfo=UTC), world.holder_patient_id),  # Mon 00:00 CEST
    ):
        register_at_practice(db, clock, world, patient_id)
        book(
            db,
            clock,
            world,
            starts_at,
            person=world.secretary,
            patient_id=patient_id,
            source=Source.PRACTICE,
        )
    sunday = agenda(client, world, **{"from": "2026-03-29", "until": "2026-03-29"})
    assert sunday.status_code == 200, sunday.text
    assert [a["starts_at"] for a in sunday.json()] == [
        "2026-03-29T00:00:00+01:00",
        "2026-03-29T23:40:00+02:00",
    ]
    assert [a["ends_at"] for a in sunday.json()] == [
        "2026-03-29T00:20:00+01:00",
        "2026-03-30T00:00:00+02:00",
    ]
    # The other instants too, at their own offset (booked on 2 March, winter time).
    first = sunday.json()[0]
    assert first["created_at"].endswith("+01:00")
    assert first["updated_at"].endswith("+01:00")
    weekend = agenda(client, world, **{"from": "2026-03-28", "until": "2026-03-30"})
    assert [a["starts_at"] for a in weekend.json()] == [
        "2026-03-28T23:40:00+01:00",
        "2026-03-29T00:00:00+01:00",
        "2026-03-29T23:40:00+02:00",
        "2026-03-30T00:00:00+02:00",
    ]
    # An instant and a day together: from Sunday 00:20 CET to the end of Sunday.
    mixed = agenda(client, world, **{"from": "2026-03-29T00:20:00+01:00", "until": "2026-03-29"})
    assert [a["starts_at"] for a in mixed.json()] == ["2026-03-29T23:40:00+02:00"]


def test_the_agenda_window_counts_local_days(
    db: Database, clock: SettableClock, client: TestClient
) -> None:
    world = build_world(db, clock, rules=RULES)
    # October 2026 in Paris: 31 local days, 745 hours.
    october = agenda(client, world, **{"from": "2026-10-01", "until": "2026-10-31"})
    assert october.status_code == 200, october.text
    problem(
        agenda(client, world, **{"from": "2026-10-01", "until": "2026-11-01"}), 422, field="until"
    )
    instants_only = {"from": "2026-10-01T00:00:00+02:00", "until": "2026-11-01T00:00:00+01:00"}
    problem(agenda(client, world, **instants_only), 422, field="until")
    problem(
        agenda(client, world, **{"from": "2026-03-05", "until": "2026-03-04"}), 422, field="until"
    )
    problem(
        agenda(client, world, **{"from": "2040-01-01", "until": "2040-01-02"}), 422, field="from"
    )


# --- what is refused --------------------------------------------------------------------------

NOT_DAYS = [
    "12345",
    "1e9",
    "20270104",
    "garbage",
    "2027-1-4",
    "2027-02-30",
    "2027-01-04T",
    "2027-01-04T09:00:00",  # no offset
    " 2027-01-04",
    "9999-12-31",
    "0001-01-01",
]


@pytest.mark.parametrize("value", NOT_DAYS)
def test_slots_refuse_what_is_not_an_instant_or_a_day(
    db: Database, clock: SettableClock, client: TestClient, value: str
) -> None:
    world = build_world(db, clock)
    answer = client.get(
        f"/api/v1/practices/{world.practice_id}/practitioners/{world.practitioner_id}/slots",
        params={"visit_type_id": str(world.consultation_id), "from": value},
    )
    problem(answer, 422, field="from")


@pytest.mark.parametrize("value", NOT_DAYS)
def test_the_agenda_refuses_what_is_not_an_instant_or_a_day(
    db: Database, clock: SettableClock, client: TestClient, value: str
) -> None:
    world = build_world(db, clock)
    problem(agenda(client, world, **{"from": value, "until": "2026-03-04"}), 422, field="from")
    problem(agenda(client, world, **{"from": "2026-03-02", "until": value}), 422, field="until")


def test_the_agenda_of_a_practice_not_there(db: Database, clock: SettableClock) -> None:
    """A principal read before its practice went (or made up) finds no zone to read days in."""
    gone = uuid.uuid4()
    principal = Principal(account_id=uuid.uuid4(), memberships={gone: Membership(Role.SECRETARY)})
    with pytest.raises(NotFound), db.write() as session:
        list_practice_agenda(
            session,
            now=clock.now(),
            principal=principal,
            practice_id=gone,
            start=date(2026, 3, 2),
            until=date(2026, 3, 3),
        )
