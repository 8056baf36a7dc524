"""The hot paths send a fixed number of SQL statements, whatever the number of rows they touch.

Each count is pinned exactly, on SQLite and on PostgreSQL, and shown to be the same with one row
and with twenty: a query in a loop (N+1) fails here with the list of statements.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from uuid import UUID

import pytest
from fastapi.testclient import TestClient
from pydantic import TypeAdapter

from colloque.api.routes.scheduling import SlotOut
from colloque.booking.rules import Source
from colloque.booking.services import BookingRequest, do_book_appointment
from colloque.clock import SettableClock
from colloque.patients.registry import do_register_patient
from colloque.scheduling.domain import OverrideKind, PatientKind
from colloque.scheduling.loading import AGENDAS, load_agenda
from colloque.scheduling.services import AgendaRulesInput, do_add_practitioner
from colloque.scheduling.specialties import Specialty
from colloque.scheduling.timetable import (
    do_add_break,
    do_add_opening_range,
    do_add_override,
    do_add_visit_type,
)
from colloque.search.services import SearchQuery, search_practitioners
from colloque.storage.engine import Database
from colloque.worker import run_cycle
from tests.conftest import QueryCount
from tests.factories import World, book, build_world, register_at_practice
from tests.functional.http import app_client, bearer
from tests.querycount import count_queries

# T0 is Monday 2026-03-02 08:00 in Paris (UTC+1). Openings: 09:00-12:00 and 14:00-18:00.
MON_0900 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
SIZES = [1, 20]


@pytest.fixture
def world(db: Database, clock: SettableClock) -> World:
    return build_world(db, clock)


def weekday_slots(count: int) -> list[datetime]:
    """``count`` distinct 20-minute slots, Tuesday onwards, mornings and afternoons (UTC)."""
    slots: list[datetime] = []
    day = MON_0900 + timedelta(days=1)
    while len(slots) < count:
        if day.weekday() < 5:
            for hour in (0, 1, 2, 5, 6, 8):  # 09:20 ... 17:20 in Paris, clear of Wednesday's break
                slots.append(day + timedelta(hours=hour, minutes=20))
        day += timedelta(days=1)
    return slots[:count]


def fill_agenda(db: Database, clock: SettableClock, world: World, count: int) -> None:
    """``count`` appointments the practice booked for patients it registered."""
    secretary = world.secretary.principal(db)
    for index, starts_at in enumerate(weekday_slots(count)):
        with db.write() as session:
            patient = do_register_patient(
                session,
                now=clock.now(),
                principal=secretary,
                practice_id=world.practice_id,
                first_name=f"Patient{index}",
                last_name="Registered",
                birth_date=date(1980, 1, 1 + index % 28),
            )
            patient_id = patient.patient_id
        book(
            db,
            clock,
            world,
            starts_at,
            person=world.secretary,
            patient_id=patient_id,
            source=Source.PRACTICE,
        )


# --- booking ------------------------------------------------------------------------------------

#: An online booking, its whole transaction, the agenda snapshot cached: the patient, the agenda
#: version, the patient's history, the taken time nearby, dropping the cached slots it covers,
#: the appointment, the practice registry; the audit event with its sequencer queue row and the
#: patient it names (at once: docs/audit.md; one statement on PostgreSQL, three on SQLite); at
#: commit the history event and the outbox message. SQLite also sends its BEGIN IMMEDIATE.
#: Then the practitioner's busy ledger row (booking/ledger.py), whose exclusion constraint keeps
#: one person from being booked twice through two practices: one insert on PostgreSQL; on
#: SQLite, which has no such constraint, the overlap check before it in the serialized write.
BOOK_ONLINE = {"sqlite": 15, "postgresql": 11}
#: By the practice: the registry is read (the patient with it), not written.
BOOK_BY_PRACTICE = {"sqlite": 14, "postgresql": 10}


@pytest.mark.parametrize("appointments", SIZES)
def test_booking_online(
    db: Database,
    clock: SettableClock,
    world: World,
    assert_query_count: QueryCount,
    appointments: int,
) -> None:
    fill_agenda(db, clock, world, appointments)
    book(db, clock, world, MON_0900 + timedelta(days=8))  # the holder's own, one week later
    principal = world.holder.principal(db)
    request = BookingRequest(
        practice_id=world.practice_id,
        practitioner_id=world.practitioner_id,
        patient_id=world.holder_patient_id,
        starts_at=MON_0900 + timedelta(days=1),  # among the others, on Tuesday at 09:00
        duration_minutes=20,
    )
    with assert_query_count(BOOK_ONLINE), db.write() as session:
        do_book_appointment(
            session, now=clock.now(), principal=principal, request=request, source=Source.ONLINE
        )


@pytest.mark.parametrize("appointments", SIZES)
def test_booking_by_the_practice_for_a_patient_with_history(
    db: Database,
    clock: SettableClock,
    world: World,
    assert_query_count: QueryCount,
    appointments: int,
) -> None:
    register_at_practice(db, clock, world, world.holder_patient_id)
    for starts_at in weekday_slots(appointments):
        book(db, clock, world, starts_at, person=world.secretary, source=Source.PRACTICE)
    principal = world.secretary.principal(db)
    request = BookingRequest(
        practice_id=world.practice_id,
        practitioner_id=world.practitioner_id,
        patient_id=world.holder_patient_id,
        starts_at=MON_0900 + timedelta(days=1),
        duration_minutes=20,
    )
    with assert_query_count(BOOK_BY_PRACTICE), db.write() as session:
        do_book_appointment(
            session,
            now=clock.now(),
            principal=principal,
            request=request,
            source=Source.PRACTICE,
        )


# --- the agenda ---------------------------------------------------------------------------------


def grow_agenda(db: Database, clock: SettableClock, world: World, count: int) -> None:
    """``count`` more of everything an agenda is made of: visit types, weekend openings (each
    with its visit type), breaks, absences and extra openings."""
    principal = world.admin.principal(db)
    now = clock.now()
    with db.write() as session:
        for index in range(count):
            visit_type = do_add_visit_type(
                session,
                now=now,
                principal=principal,
                practice_id=world.practice_id,
                practitioner_id=world.practitioner_id,
                label=f"Type {index}",
                duration_minutes=10 + index,
                patient_kind=PatientKind.ANY,
            )
            session.flush()
            do_add_opening_range(
                session,
                now=now,
                principal=principal,
                practice_id=world.practice_id,
                practitioner_id=world.practitioner_id,
                weekday=5 + index % 2,
                start_minute=index * 60,
                end_minute=index * 60 + 30,
                visit_type_ids=[visit_type.visit_type_id, world.consultation_id],
            )
            do_add_break(
                session,
                now=now,
                principal=principal,
                practice_id=world.practice_id,
                practitioner_id=world.practitioner_id,
                weekday=index % 5,
                start_minute=12 * 60 + index,
                end_minute=12 * 60 + index + 1,
            )
            day = date(2026, 4, 1) + timedelta(days=index)
            do_add_override(
                session,
                now=now,
                principal=principal,
                practice_id=world.practice_id,
                practitioner_id=world.practitioner_id,
                kind=OverrideKind.ABSENCE,
                first_day=day,
                last_day=day,
            )
            do_add_override(
                session,
                now=now,
                principal=principal,
                practice_id=world.practice_id,
                practitioner_id=world.practitioner_id,
                kind=OverrideKind.EXTRA_OPENING,
                first_day=day + timedelta(days=100),
                last_day=day + timedelta(days=100),
                start_minute=19 * 60,
                end_minute=20 * 60,
                visit_type_ids=[visit_type.visit_type_id],
            )


#: Reading an agenda into its snapshot: its version, then the agenda row with its practice and
#: practitioner (one join), the visit types, every practice the practitioner works at, the
#: openings' visit types, the openings, the breaks, the overrides and the extra openings' visit
#: types. The same nine for any number of agendas read together (``load_agendas``).
READ_AGENDA = 9
#: With the snapshot cached, only its version is read.
CACHED_AGENDA = 1


@pytest.mark.parametrize("rows", SIZES)
def test_reading_an_agenda(
    db: Database,
    clock: SettableClock,
    world: World,
    assert_query_count: QueryCount,
    rows: int,
) -> None:
    grow_agenda(db, clock, world, rows)
    AGENDAS.clear()
    with db.read() as session:
        session.connection()
        with assert_query_count(READ_AGENDA):
            loaded = load_agenda(
                session, practice_id=world.practice_id, practitioner_id=world.practitioner_id
            )
        assert len(loaded.visit_types) == 5 + rows
        assert len(loaded.agenda.weekly) == 10 + rows
        assert len(loaded.agenda.overrides) == 2 * rows
        assert all(o.visit_type_ids for o in loaded.agenda.overrides if o.start is not None)
    with db.read() as session:
        session.connection()
        with assert_query_count(CACHED_AGENDA):
            load_agenda(
                session, practice_id=world.practice_id, practitioner_id=world.practitioner_id
            )


@pytest.fixture
def client(db: Database, clock: SettableClock) -> Iterator[TestClient]:
    with app_client(db, clock) as test_client:
        yield test_client


#: GET /practices/{id}/agenda as a secretary: resolving the bearer token (the token with its
#: account, the memberships, the probing lock) in a read transaction, then in the write
#: transaction the practice's time zone (plain days are read in it, before the page's query, and
#: every instant of the answer is given with its offset), the page of appointments with their
#: patients, the page's sealed reasons, then its audit event naming them all, with its sequencer
#: queue row, the patients it names (one multi-row insert) and the client's address (one statement
#: on PostgreSQL, four on SQLite); then the anomaly counters (docs/containment.md): the credential's
#: window read for update, and as this is its first read of the window, the practice's size and its
#: coming week (the limit), and the window's insert (a later read of the window updates it instead:
#: two statements). SQLite also sends its two BEGINs.
AGENDA_REQUEST = {"sqlite": 16, "postgresql": 11}


@pytest.mark.parametrize("appointments", SIZES)
def test_the_agenda_page(
    db: Database,
    clock: SettableClock,
    world: World,
    client: TestClient,
    assert_query_count: QueryCount,
    appointments: int,
) -> None:
    fill_agenda(db, clock, world, appointments)
    params = {"from": "2026-03-02T00:00:00Z", "until": "2026-04-01T00:00:00Z"}
    url = f"/api/v1/practices/{world.practice_id}/agenda"
    with assert_query_count(AGENDA_REQUEST):
        answer = client.get(url, params=params, headers=bearer(world.secretary))
    assert answer.status_code == 200, answer.text
    assert len(answer.json()) == appointments


#: The same page read again later the same day, 20 minutes on: the token's last use is written
#: first, in a transaction of its own (SQLite's third BEGIN); then the counters. The process kept
#: a copy of the credential's row (its hour and its day) as the first read wrote it, once that
#: committed, and the page names nobody new to it: no statement on the row, where the first read's
#: took four; the same again 20 minutes later. In the next hour the row's hour starts again (the
#: same persons are new to it, not to the day); the copy says so, and the row is written from it
#: in one statement, on the condition that it is still at the copy's revision, under the limits
#: fixed when the credential's day began, with no recount of the practice (docs/containment.md).
AGENDA_REQUEST_SAME_HOUR = {"sqlite": 14, "postgresql": 8}
AGENDA_REQUEST_SAME_HOUR_AGAIN = {"sqlite": 14, "postgresql": 8}
AGENDA_REQUEST_NEXT_HOUR = {"sqlite": 15, "postgresql": 9}


def test_the_agenda_page_later_in_the_day(
    db: Database,
    clock: SettableClock,
    world: World,
    client: TestClient,
    assert_query_count: QueryCount,
) -> None:
    fill_agenda(db, clock, world, 10)
    params = {"from": "2026-03-02T00:00:00Z", "until": "2026-04-01T00:00:00Z"}
    url = f"/api/v1/practices/{world.practice_id}/agenda"
    assert client.get(url, params=params, headers=bearer(world.secretary)).status_code == 200
    # 07:20 and 07:40, the same hour; 08:00, the next (each within the idle timeout).
    for expected in (
        AGENDA_REQUEST_SAME_HOUR,
        AGENDA_REQUEST_SAME_HOUR_AGAIN,
        AGENDA_REQUEST_NEXT_HOUR,
    ):
        clock.advance(timedelta(minutes=20))
        with assert_query_count(expected):
            answer = client.get(url, params=params, headers=bearer(world.secretary))
        assert answer.status_code == 200, answer.text


#: A patient's week of slots (GET .../slots, public), the agenda snapshot cached: its version,
#: then the practitioner's taken time over the window at every practice they work at. SQLite also
#: sends its BEGIN. The same two however many appointments the week holds.
WEEK_OF_SLOTS = {"sqlite": 3, "postgresql": 2}


@pytest.mark.parametrize("appointments", SIZES)
def test_a_week_of_slots(
    db: Database,
    clock: SettableClock,
    world: World,
    client: TestClient,
    assert_query_count: QueryCount,
    appointments: int,
) -> None:
    fill_agenda(db, clock, world, appointments)
    url = f"/api/v1/practices/{world.practice_id}/practitioners/{world.practitioner_id}/slots"
    params = {"visit_type_id": str(world.consultation_id), "from": "2026-03-02", "days": "7"}
    first = client.get(url, params=params)
    assert first.status_code == 200, first.text
    with assert_query_count(WEEK_OF_SLOTS):
        answer = client.get(url, params=params)
    assert answer.status_code == 200, answer.text
    assert answer.json() == first.json()
    # Written without a model per slot: the same fields, each with the practice's offset.
    assert TypeAdapter(list[SlotOut]).validate_python(answer.json())
    assert all(
        list(slot) == list(SlotOut.model_fields) and slot["starts_at"].endswith("+01:00")
        for slot in answer.json()
    )
    taken = {starts_at.isoformat() for starts_at in weekday_slots(appointments)}
    assert answer.json()
    assert not taken & {
        datetime.fromisoformat(slot["starts_at"]).astimezone(UTC).isoformat()
        for slot in answer.json()
    }


# --- search -------------------------------------------------------------------------------------


def add_gps(db: Database, clock: SettableClock, world: World, count: int) -> list[UUID]:
    """``count`` GPs at the world's practice, open every weekday, each from half an hour later
    than the one before (09:30, 10:00, ...), so that their earliest slots differ."""
    principal = world.admin.principal(db)
    now = clock.now()
    added = []
    with db.write() as session:
        for index in range(count):
            gp = do_add_practitioner(
                session,
                now=now,
                principal=principal,
                practice_id=world.practice_id,
                first_name=f"Gp{index}",
                last_name=f"Doctor{index}",
                specialty=Specialty.GENERAL_PRACTICE,
                rules=AgendaRulesInput(slot_step_minutes=30, min_notice_minutes=60),
            )
            visit_type = do_add_visit_type(
                session,
                now=now,
                principal=principal,
                practice_id=world.practice_id,
                practitioner_id=gp.practitioner_id,
                label="Consultation",
                duration_minutes=30,
            )
            session.flush()
            for weekday in range(5):
                do_add_opening_range(
                    session,
                    now=now,
                    principal=principal,
                    practice_id=world.practice_id,
                    practitioner_id=gp.practitioner_id,
                    weekday=weekday,
                    start_minute=9 * 60 + 30 + 30 * index,
                    end_minute=21 * 60,
                    visit_type_ids=[visit_type.visit_type_id],
                )
            added.append(gp.practitioner_id)
    return added


#: A search ranks the agendas, then loads the page's practices, its practitioners, their next
#: slots and their visit types: five statements whatever the page size. The plain search
#: (specialty and city, earliest first) first walks the time-ordered cached slots; when that
#: walk cannot fill the page (here: a page of 50, fewer agendas), it ranks every candidate: six.
SEARCHES = {
    "plain": (SearchQuery(specialty=Specialty.GENERAL_PRACTICE, city="Paris", page_size=50), 6),
    "by language": (
        SearchQuery(
            specialty=Specialty.GENERAL_PRACTICE, city="Paris", language="fr", page_size=50
        ),
        5,
    ),
    "around a point": (
        SearchQuery(
            specialty=Specialty.GENERAL_PRACTICE,
            latitude=48.87,
            longitude=2.33,
            radius_km=5,
            page_size=50,
        ),
        5,
    ),
}


@pytest.mark.parametrize("search", list(SEARCHES))
@pytest.mark.parametrize("practitioners", SIZES)
def test_search(
    db: Database,
    clock: SettableClock,
    world: World,
    assert_query_count: QueryCount,
    search: str,
    practitioners: int,
) -> None:
    add_gps(db, clock, world, practitioners - 1)
    run_cycle(db, clock, batch=100)
    query, statements = SEARCHES[search]
    with db.read() as session:
        session.connection()
        with assert_query_count(statements):
            page = search_practitioners(session, now=clock.now(), query=query)
    assert len(page.hits) == practitioners
    assert all(hit.next_slots and hit.visit_types for hit in page.hits)


def test_the_counter_lists_what_it_saw(db: Database, clock: SettableClock, world: World) -> None:
    with count_queries(db) as statements, db.read() as session:
        load_agenda(session, practice_id=world.practice_id, practitioner_id=world.practitioner_id)
    assert statements
    assert "agenda_version" in statements.listing()


@pytest.mark.parametrize("practitioners", [3, 20])
def test_search_by_the_time_ordered_cache(
    db: Database,
    clock: SettableClock,
    world: World,
    assert_query_count: QueryCount,
    practitioners: int,
) -> None:
    """A page the walk of the cached slots fills: five statements, the walk being the ranking."""
    add_gps(db, clock, world, practitioners - 1)
    run_cycle(db, clock, batch=100)
    query = SearchQuery(specialty=Specialty.GENERAL_PRACTICE, city="Paris", page_size=2)
    with db.read() as session:
        session.connection()
        with assert_query_count(5) as statements:
            page = search_practitioners(session, now=clock.now(), query=query)
    assert len(page.hits) == 2
    assert page.has_more
    assert "ORDER BY next_slots.starts_at" in statements[0]
