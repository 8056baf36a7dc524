"""Fixtures of the authorization tests: the real app in-process, on both databases."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from colloque.accounts.services import do_create_account, do_issue_token
from colloque.api.app import create_app
from colloque.authorization.probing import ProbingLimits
from colloque.clock import SettableClock
from colloque.config import Settings
from colloque.storage.engine import Database
from tests.factories import Person, World, build_world

#: One line per database the authorization matrix ran on, printed at the end of the session.
MATRIX_RUNS: list[str] = []

#: Limits that never trigger: tests about something else must not be slowed down or locked out.
NO_PROBING_LIMITS = ProbingLimits(slow_after=10**9, lock_after=10**9, delay_seconds=0)


class Sleeps:
    """Records the delays the probing guard asks for instead of waiting."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


def make_app(
    database: Database,
    clock: SettableClock,
    limits: ProbingLimits = NO_PROBING_LIMITS,
    settings: Settings | None = None,
) -> tuple[FastAPI, Sleeps]:
    app = create_app(settings or Settings(run_refresher=False), database=database, clock=clock)
    sleeps = Sleeps()
    # The app's own guard (its notices of a lock), with these limits and a recorded sleep.
    app.state.probing = replace(app.state.probing, limits=limits, sleep=sleeps)
    return app, sleeps


def auth(person: Person) -> dict[str, str]:
    return {"Authorization": f"Bearer {person.token}"}


def make_operator(db: Database, clock: SettableClock, name: str = "Operator Olga") -> Person:
    with db.write() as session:
        account = do_create_account(
            session,
            now=clock.now(),
            display_name=name,
            email=f"{name.lower().replace(' ', '.')}@ops.example.test",
            is_operator=True,
        )
        token = do_issue_token(
            session,
            now=clock.now(),
            account_id=account.account_id,
            lifetime=timedelta(days=365),
            integration=True,
        )
    return Person(account_id=account.account_id, token=token)


@pytest.fixture
def world(db: Database, clock: SettableClock) -> World:
    return build_world(db, clock)


@pytest.fixture
def client(db: Database, clock: SettableClock) -> Iterator[TestClient]:
    app, _sleeps = make_app(db, clock)
    with TestClient(app, raise_server_exceptions=True) as test_client:
        yield test_client


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    for line in MATRIX_RUNS:
        terminalreporter.write_line(line)
