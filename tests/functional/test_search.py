"""Search at small scale, on both databases: the fast path through the time-ordered index of
cached slots ranks exactly like ranking every candidate."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import delete, select

from colloque.clock import SettableClock
from colloque.errors import NotFound
from colloque.scheduling.loading import AGENDAS
from colloque.scheduling.models import NextSlot, PracticePractitioner
from colloque.scheduling.specialties import Specialty
from colloque.search import cache
from colloque.search import services as search
from colloque.search.services import SearchQuery
from colloque.storage.engine import Database
from colloque.worker import run_cycle
from tests.factories import add_gps, build_world
from tests.querycount import count_queries


@pytest.mark.parametrize("page_size", [1, 3, 7, 50])
def test_fast_path_ranks_like_the_full_ranking(
    db: Database, clock: SettableClock, page_size: int
) -> None:
    world = build_world(db, clock)
    add_gps(db, clock, world, 14)
    run_cycle(db, clock, batch=100)
    clock.advance(timedelta(hours=30))
    query = SearchQuery(specialty=Specialty.GENERAL_PRACTICE, city="Paris", page_size=page_size)
    fast_path_taken = 0
    for page in (1, 2, 3, 4):
        paged = SearchQuery(
            specialty=query.specialty, city=query.city, page_size=page_size, page=page
        )
        with db.read() as session:
            fast = search.search_practitioners(session, now=clock.now(), query=paged)
            fast_path_taken += (
                search._rank_by_time(session, now=clock.now(), query=paged) is not None
            )
        with db.read() as session:
            # The same query with a filter that matches everyone takes the full ranking path.
            full = search.search_practitioners(
                session,
                now=clock.now(),
                query=SearchQuery(
                    specialty=query.specialty,
                    city=query.city,
                    page_size=page_size,
                    page=page,
                    language="fr",
                ),
            )
        assert [h.practitioner.practitioner_id for h in fast.hits] == [
            h.practitioner.practitioner_id for h in full.hits
        ]
        assert [h.earliest for h in fast.hits] == [h.earliest for h in full.hits]
        assert fast.has_more == full.has_more
    if page_size < 7:
        assert fast_path_taken, "the fast path was never taken"


def _cached_slots(db: Database) -> list[tuple[object, ...]]:
    with db.read() as session:
        return sorted(
            tuple(row)
            for row in session.execute(
                select(
                    NextSlot.practice_id,
                    NextSlot.practitioner_id,
                    NextSlot.visit_type_id,
                    NextSlot.starts_at,
                    NextSlot.ends_at,
                    NextSlot.blocked_until,
                    NextSlot.bookable_until,
                    NextSlot.specialty,
                    NextSlot.city_key,
                )
            )
        )


def test_refreshing_agendas_together_caches_what_one_at_a_time_does(
    db: Database, clock: SettableClock
) -> None:
    world = build_world(db, clock)
    add_gps(db, clock, world, 9)
    with db.read() as session:
        keys = [
            (row.practice_id, row.practitioner_id)
            for row in session.scalars(select(PracticePractitioner))
        ]
    assert len(keys) == 10
    for practice_id, practitioner_id in keys:
        with db.write() as session:
            cache.refresh_agenda(
                session, now=clock.now(), practice_id=practice_id, practitioner_id=practitioner_id
            )
    one_at_a_time = _cached_slots(db)
    assert one_at_a_time

    AGENDAS.clear()  # read every agenda again, together this time
    gone = (world.practice_id, uuid.uuid4())
    with db.write() as session:
        session.execute(delete(NextSlot))
        with count_queries(db) as statements:
            counts = cache.refresh_agendas(session, now=clock.now(), keys=[*keys, gone])
    assert set(counts) == set(keys)  # the missing agenda is left out
    assert sum(counts.values()) == len(one_at_a_time)
    assert _cached_slots(db) == one_at_a_time

    AGENDAS.clear()
    with db.write() as session:
        session.execute(delete(NextSlot))
        with count_queries(db) as two:
            cache.refresh_agendas(session, now=clock.now(), keys=keys[:2])
    # The same statements for two agendas as for ten: none per agenda.
    assert len(two) == len(statements)


def test_refreshing_a_removed_agenda_says_it_is_not_found(
    db: Database, clock: SettableClock
) -> None:
    world = build_world(db, clock)
    with db.write() as session, pytest.raises(NotFound):
        cache.refresh_agenda(
            session, now=clock.now(), practice_id=world.practice_id, practitioner_id=uuid.uuid4()
        )
