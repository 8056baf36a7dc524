"""Search at small scale, on both databases: the fast path through the time-ordered index of
cached slots ranks exactly like ranking every candidate."""

from __future__ import annotations

from datetime import timedelta

import pytest

from colloque.clock import SettableClock
from colloque.scheduling.domain import PatientKind
from colloque.scheduling.services import AgendaRulesInput, do_add_practitioner
from colloque.scheduling.specialties import Specialty
from colloque.scheduling.timetable import do_add_opening_range, do_add_visit_type
from colloque.search import services as search
from colloque.search.services import SearchQuery
from colloque.storage.engine import Database
from colloque.worker import run_cycle
from tests.factories import World, build_world


def _add_gps(db: Database, clock: SettableClock, world: World, count: int) -> None:
    """More GPs in the same practice, each opening at a different hour, so rankings differ."""
    principal = world.admin.principal(db)
    now = clock.now()
    for index in range(count):
        with db.write() as session:
            gp = do_add_practitioner(
                session,
                now=now,
                principal=principal,
                practice_id=world.practice_id,
                first_name=f"Gp{index}",
                last_name=f"Doctor{index}",
                specialty=Specialty.GENERAL_PRACTICE,
                rules=AgendaRulesInput(slot_step_minutes=30, min_notice_minutes=60 * (index % 3)),
            )
            visit_type = do_add_visit_type(
                session,
                now=now,
                principal=principal,
                practice_id=world.practice_id,
                practitioner_id=gp.practitioner_id,
                label="Consultation",
                duration_minutes=30,
                patient_kind=PatientKind.ANY,
            )
            session.flush()
            if index % 4 == 3:
                continue  # no opening at all: no slots, ranked last
            do_add_opening_range(
                session,
                now=now,
                principal=principal,
                practice_id=world.practice_id,
                practitioner_id=gp.practitioner_id,
                weekday=(index % 5),
                start_minute=8 * 60 + 30 * (index % 7),
                end_minute=19 * 60,
                visit_type_ids=[visit_type.visit_type_id],
            )


@pytest.mark.parametrize("page_size", [1, 3, 7, 50])
def test_fast_path_ranks_like_the_full_ranking(
    db: Database, clock: SettableClock, page_size: int
) -> None:
    world = build_world(db, clock)
    _add_gps(db, clock, world, 14)
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
