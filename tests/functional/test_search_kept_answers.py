"""Search answers kept per (specialty, city) cell, on both databases: a kept answer is served
again only while it is byte for byte what a search would answer now. Bookings off the first page
and stale agendas keep it; a booking of a slot it shows, time passing a slot's notice, a rebuilt
cache, an edited visit type or practice, or a new agenda make it built again."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime, timedelta
from uuid import UUID

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from colloque.api.app import create_app
from colloque.api.routes.search import _render
from colloque.booking.rules import Source
from colloque.booking.services import BookingRequest, do_book_appointment
from colloque.clock import SettableClock
from colloque.config import Settings
from colloque.metrics import SEARCH_ANSWERS
from colloque.scheduling.editing import VisitTypeChanges, do_edit_visit_type, visit_type_version
from colloque.scheduling.models import NextSlot, SearchCell, VisitType
from colloque.scheduling.services import (
    do_update_practice_settings,
    mark_agenda_stale,
    search_cells_changed,
)
from colloque.scheduling.specialties import Specialty
from colloque.search import cache
from colloque.search.answers import KeptAnswers
from colloque.search.kept import CellProof, answer_of_cell, keeps_answers
from colloque.search.services import SearchPage, SearchQuery, search_practitioners
from colloque.storage.engine import Database
from colloque.worker import run_cycle
from tests.factories import World, add_gps, build_world, register_at_practice
from tests.querycount import count_queries

#: Three results a page: most of the cell's agendas are off the first page.
QUERY = SearchQuery(specialty=Specialty.GENERAL_PRACTICE, city="Paris", page_size=3)


class Searches:
    """One process's kept answers, counting the pages it had to build."""

    def __init__(self, db: Database, clock: SettableClock) -> None:
        self.db = db
        self.clock = clock
        self.kept: KeptAnswers[CellProof] = KeptAnswers()
        self.built = 0

    def answer(self, query: SearchQuery = QUERY) -> bytes:
        def render(page: SearchPage) -> bytes:
            self.built += 1
            return _render(page)

        with self.db.read_statements() as session:
            return answer_of_cell(
                session, now=self.clock.now(), query=query, kept=self.kept, render=render
            )

    def check(self, *, built: int) -> None:
        """The answer served now is the one a search builds now, and ``built`` pages have been
        built so far (one more than before: it was rebuilt; as many: it was kept)."""
        assert self.answer() == self.fresh()
        assert self.built == built

    def fresh(self, query: SearchQuery = QUERY) -> bytes:
        with self.db.read() as session:
            return _render(search_practitioners(session, now=self.clock.now(), query=query))

    def shown_slots(self) -> list[tuple[UUID, UUID, UUID, datetime]]:
        """The cached slots the first page shows now, in its order."""
        with self.db.read() as session:
            page = search_practitioners(session, now=self.clock.now(), query=QUERY)
        return [
            (hit.practice.practice_id, hit.practitioner.practitioner_id, type_id, offer.starts_at)
            for hit in page.hits
            for offer in hit.next_slots
            for type_id in offer.visit_type_ids
        ]

    def shown(self) -> set[tuple[UUID, UUID]]:
        """The agendas the first page shows slots of."""
        return {(slot[0], slot[1]) for slot in self.shown_slots()}


@pytest.fixture
def world(db: Database, clock: SettableClock) -> World:
    built = build_world(db, clock)
    add_gps(db, clock, built, 10)
    register_at_practice(db, clock, built, built.holder_patient_id)
    run_cycle(db, clock, batch=100)
    return built


def _cached(db: Database, now: datetime) -> list[NextSlot]:
    with db.read() as session:
        return list(
            session.scalars(
                select(NextSlot)
                .where(NextSlot.bookable_until >= now)
                .order_by(NextSlot.starts_at, NextSlot.practitioner_id, NextSlot.visit_type_id)
            )
        )


def _book(db: Database, clock: SettableClock, world: World, slot: NextSlot) -> None:
    with db.write() as session:
        do_book_appointment(
            session,
            now=clock.now(),
            principal=world.secretary.principal(db),
            request=BookingRequest(
                practice_id=slot.practice_id,
                practitioner_id=slot.practitioner_id,
                patient_id=world.holder_patient_id,
                starts_at=slot.starts_at,
                duration_minutes=int((slot.ends_at - slot.starts_at).total_seconds() // 60),
            ),
            source=Source.PRACTICE,
        )


def test_a_kept_answer_costs_one_statement(
    db: Database, clock: SettableClock, world: World
) -> None:
    searches = Searches(db, clock)
    first = searches.answer()
    assert searches.built == 1
    with count_queries(db) as statements:
        again = searches.answer()
    assert again == first
    assert searches.built == 1
    # SQLite's BEGIN is no round trip; PostgreSQL's read is in autocommit, without one.
    assert [s for s in statements if s != "BEGIN"] == statements[-1:]


def test_bookings_off_the_page_keep_it_and_on_it_rebuild_it(
    db: Database, clock: SettableClock, world: World
) -> None:
    searches = Searches(db, clock)
    searches.answer()
    shown = searches.shown()
    off_page = next(
        slot
        for slot in _cached(db, clock.now())
        if (slot.practice_id, slot.practitioner_id) not in shown
    )
    _book(db, clock, world, off_page)
    searches.check(built=1)  # a booking off the first page changed nothing on it

    practice_id, practitioner_id, visit_type_id, starts_at = searches.shown_slots()[0]
    on_page = next(
        slot
        for slot in _cached(db, clock.now())
        if (slot.practice_id, slot.practitioner_id, slot.visit_type_id, slot.starts_at)
        == (practice_id, practitioner_id, visit_type_id, starts_at)
    )
    _book(db, clock, world, on_page)
    searches.check(built=2)


def test_after_any_run_of_bookings_the_answer_is_a_fresh_one(
    db: Database, clock: SettableClock, world: World
) -> None:
    searches = Searches(db, clock)
    draw = random.Random(16)
    outcomes = set()
    for _ in range(12):
        searches.answer()
        built = searches.built
        slot = draw.choice(_cached(db, clock.now())[:60])
        _book(db, clock, world, slot)
        assert searches.answer() == searches.fresh()
        outcomes.add(searches.built > built)
    assert outcomes == {True, False}, "both kept and rebuilt answers were exercised"


def _off_page_agenda(searches: Searches) -> tuple[UUID, UUID]:
    searches.answer()
    shown = searches.shown()
    agendas = {
        (s.practice_id, s.practitioner_id) for s in _cached(searches.db, searches.clock.now())
    }
    return sorted(agendas - shown)[0]


def _refresh(db: Database, clock: SettableClock, world: World, agenda: tuple[UUID, UUID]) -> None:
    with db.write() as session:
        cache.refresh_agenda(
            session, now=clock.now(), practice_id=agenda[0], practitioner_id=agenda[1]
        )


def _change_practice_settings(
    db: Database, clock: SettableClock, world: World, agenda: tuple[UUID, UUID]
) -> None:
    with db.write() as session:
        do_update_practice_settings(
            session,
            now=clock.now(),
            principal=world.admin.principal(db),
            practice_id=agenda[0],
            hold_minutes=20,
        )


def _edit_visit_type(
    db: Database, clock: SettableClock, world: World, agenda: tuple[UUID, UUID]
) -> None:
    with db.write() as session:
        visit_type = session.scalars(
            select(VisitType).where(
                VisitType.practice_id == agenda[0], VisitType.practitioner_id == agenda[1]
            )
        ).first()
        assert visit_type is not None
        do_edit_visit_type(
            session,
            now=clock.now(),
            principal=world.admin.principal(db),
            practice_id=agenda[0],
            visit_type_id=visit_type.visit_type_id,
            expected_version=visit_type_version(visit_type),
            changes=VisitTypeChanges(label="Consultation longue"),
        )


def _add_agenda(
    db: Database, clock: SettableClock, world: World, agenda: tuple[UUID, UUID]
) -> None:
    add_gps(db, clock, world, 1)


#: A change to one agenda of the cell, named by its (practice, practitioner).
Change = Callable[[Database, SettableClock, World, tuple[UUID, UUID]], None]


@pytest.mark.parametrize(
    "change",
    [_refresh, _change_practice_settings, _edit_visit_type, _add_agenda],
    ids=["cache rebuilt", "practice settings", "visit type edited", "new agenda"],
)
def test_a_change_to_the_cells_agendas_rebuilds_it(
    db: Database, clock: SettableClock, world: World, change: Change
) -> None:
    searches = Searches(db, clock)
    agenda = _off_page_agenda(searches)
    change(db, clock, world, agenda)
    searches.check(built=2)


def test_an_edit_on_the_page_that_takes_no_slot_still_rebuilds_it(
    db: Database, clock: SettableClock, world: World
) -> None:
    searches = Searches(db, clock)
    first = searches.answer()
    _edit_visit_type(db, clock, world, searches.shown_slots()[0][:2])
    fresh = searches.fresh()
    assert fresh != first, "the page names the visit type's new label"
    assert searches.answer() == fresh


def test_a_stale_agenda_keeps_it_until_its_cache_is_rebuilt(
    db: Database, clock: SettableClock, world: World
) -> None:
    """Time freed (a cancellation marks the agenda stale) shows in search only once the agenda's
    cache is rebuilt: until then the kept answer is still the fresh one."""
    searches = Searches(db, clock)
    searches.answer()
    agenda = sorted(searches.shown())[0]
    with db.write() as session:
        mark_agenda_stale(session, practice_id=agenda[0], practitioner_id=agenda[1])
    searches.check(built=1)
    run_cycle(db, clock, batch=100)
    searches.check(built=2)


def test_time_passing_a_shown_slots_notice_rebuilds_it(
    db: Database, clock: SettableClock, world: World
) -> None:
    searches = Searches(db, clock)
    searches.answer()
    first_bookable_until = min(slot.bookable_until for slot in _cached(db, clock.now()))
    clock.set(first_bookable_until + timedelta(seconds=1))
    searches.check(built=2)


def test_only_a_cells_first_page_is_kept() -> None:
    assert keeps_answers(QUERY)
    assert keeps_answers(SearchQuery(specialty=Specialty.GENERAL_PRACTICE, city="Paris", name="gp"))
    assert not keeps_answers(
        SearchQuery(specialty=Specialty.GENERAL_PRACTICE, city="Paris", page=2)
    )
    assert not keeps_answers(SearchQuery(specialty=Specialty.GENERAL_PRACTICE, postcode="75011"))
    assert not keeps_answers(SearchQuery(city="Paris"))


@pytest.mark.parametrize("keep", [True, False])
def test_the_route_serves_kept_answers_unless_turned_off(
    db: Database, clock: SettableClock, world: World, keep: bool
) -> None:
    app = create_app(
        Settings(run_refresher=False, search_keep_answers=keep), database=db, clock=clock
    )
    kept = SEARCH_ANSWERS.labels(outcome="kept")
    before = kept._value.get()
    params = {"specialty": "general_practice", "city": "Paris", "page_size": "3"}
    with TestClient(app) as client:
        first = client.get("/api/v1/search", params=params)
        second = client.get("/api/v1/search", params=params)
    assert first.status_code == second.status_code == 200
    assert first.content == second.content
    assert kept._value.get() - before == (1 if keep else 0)


def test_bumping_no_cell_writes_nothing(db: Database) -> None:
    """A practice without agendas changing its settings bumps no cell."""
    with db.write() as session:
        search_cells_changed(session, [])
    with db.read() as session:
        assert session.scalars(select(SearchCell)).all() == []
