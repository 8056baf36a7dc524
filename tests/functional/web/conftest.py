"""A world with one practice, its GP's agenda and a fresh search cache, behind the whole app
(API and pages), for the page tests."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient

from colloque.clock import SettableClock
from colloque.config import Settings
from colloque.storage.engine import Database
from colloque.web.app import create_app
from colloque.worker import run_cycle
from tests.factories import World, build_world


@dataclass
class Site:
    client: TestClient
    world: World

    @property
    def practitioner_url(self) -> str:
        return f"/practitioners/{self.world.practice_id}/{self.world.practitioner_id}"


@pytest.fixture
def site(sqlite_db: Database, clock: SettableClock) -> Site:
    world = build_world(sqlite_db, clock)
    run_cycle(sqlite_db, clock, batch=100)
    app = create_app(Settings(run_refresher=False), database=sqlite_db, clock=clock)
    return Site(TestClient(app), world)
