"""A world with one practice, its GP's agenda and a fresh search cache, behind the whole app
(API and pages), for the page tests."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient

from colloque.clock import SettableClock
from colloque.config import Settings
from colloque.scheduling.domain import PatientKind
from colloque.scheduling.services import AgendaRulesInput, do_add_practitioner
from colloque.scheduling.specialties import Specialty
from colloque.scheduling.timetable import do_add_opening_range, do_add_visit_type
from colloque.storage.engine import Database
from colloque.web.app import create_app
from colloque.worker import run_cycle
from tests.factories import World, build_world


@dataclass
class Site:
    client: TestClient
    world: World
    db: Database
    clock: SettableClock

    @property
    def practitioner_url(self) -> str:
        return f"/practitioners/{self.world.practice_id}/{self.world.practitioner_id}"


@pytest.fixture
def site(sqlite_db: Database, clock: SettableClock) -> Site:
    world = build_world(sqlite_db, clock)
    run_cycle(sqlite_db, clock, batch=100)
    app = create_app(Settings(run_refresher=False), database=sqlite_db, clock=clock)
    return Site(TestClient(app), world, sqlite_db, clock)


def add_gps(db: Database, clock: SettableClock, world: World, count: int) -> None:
    """More GPs in the world's practice, each opening an hour later than the one before, so that
    their earliest slots, and so their ranks, differ."""
    principal = world.admin.principal(db)
    now = clock.now()
    for index in range(count):
        with db.write() as session:
            gp = do_add_practitioner(
                session,
                now=now,
                principal=principal,
                practice_id=world.practice_id,
                first_name=f"Gp{index:02d}",
                last_name=f"Rang{index:02d}",
                specialty=Specialty.GENERAL_PRACTICE,
                rules=AgendaRulesInput(slot_step_minutes=30, min_notice_minutes=0),
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
            do_add_opening_range(
                session,
                now=now,
                principal=principal,
                practice_id=world.practice_id,
                practitioner_id=gp.practitioner_id,
                weekday=1,
                start_minute=8 * 60 + 30 * index,
                end_minute=20 * 60,
                visit_type_ids=[visit_type.visit_type_id],
            )
