"""A transaction PostgreSQL breaks off to let a concurrent one through is a 503 the client may
send again, never an internal error, and nothing of it is written.

The deadlock is real: two transactions of the application's ``Database`` lock two rows in
opposite orders, so the server must fail one of them."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import text

from colloque.api import problems
from colloque.errors import Busy
from colloque.storage.engine import Database

pytestmark = pytest.mark.postgres

PROBE = "transient_probe"


@pytest.fixture
def probe(postgres_db: Database) -> Iterator[Database]:
    with postgres_db.write() as session:
        session.execute(text(f"CREATE TABLE {PROBE} (id int PRIMARY KEY, hits int NOT NULL)"))
        session.execute(text(f"INSERT INTO {PROBE} VALUES (1, 0), (2, 0)"))
    yield postgres_db
    with postgres_db.write() as session:
        session.execute(text(f"DROP TABLE {PROBE}"))


def _lock_in_order(
    database: Database, first: int, second: int, met: threading.Barrier, *, late: bool = False
) -> None:
    """``late``: wait a little before the second lock. PostgreSQL fails the transaction that
    has waited longest (its deadlock check runs first), so the other one is the victim."""
    with database.write() as session:
        session.execute(text(f"UPDATE {PROBE} SET hits = hits + 1 WHERE id = {first}"))
        met.wait(timeout=10)
        if late:
            time.sleep(0.3)
        session.execute(text(f"UPDATE {PROBE} SET hits = hits + 1 WHERE id = {second}"))


def _deadlock(database: Database) -> list[BaseException | None]:
    """Both orders at once; what each transaction raised (None for the one that committed)."""
    met = threading.Barrier(2)
    outcomes: list[BaseException | None] = [None, None]

    def run(slot: int, first: int, second: int) -> None:
        try:
            _lock_in_order(database, first, second, met)
        except BaseException as exc:  # handed to the test, which judges it
            outcomes[slot] = exc

    threads = [
        threading.Thread(target=run, args=(0, 1, 2)),
        threading.Thread(target=run, args=(1, 2, 1)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return outcomes


def _hits(database: Database) -> list[int]:
    with database.read() as session:
        return list(session.scalars(text(f"SELECT hits FROM {PROBE} ORDER BY id")))


def test_the_loser_of_a_deadlock_is_busy_and_wrote_nothing(probe: Database) -> None:
    outcomes = _deadlock(probe)
    assert sorted(type(outcome).__name__ for outcome in outcomes) == ["Busy", "NoneType"]
    # The winner's two updates, nothing of the loser's first one.
    assert _hits(probe) == [1, 1]


def test_over_http_it_is_a_503_problem_with_retry_after(probe: Database) -> None:
    app = FastAPI()
    problems.install(app)

    @app.post("/deadlock")
    def deadlock() -> dict[str, str]:
        met = threading.Barrier(2)

        def the_other_order() -> None:
            with contextlib.suppress(Busy):
                _lock_in_order(probe, 2, 1, met, late=True)

        other = threading.Thread(target=the_other_order)
        other.start()
        try:
            _lock_in_order(probe, 1, 2, met)
        finally:
            other.join(timeout=30)
        return {"status": "done"}

    with TestClient(app, raise_server_exceptions=False) as client:
        answer = client.post("/deadlock")
    assert answer.status_code == 503
    assert answer.headers["content-type"] == problems.PROBLEM_MEDIA_TYPE
    assert answer.headers["retry-after"] == str(Busy.retry_after)
    assert answer.json()["type"].endswith("/busy")
    # The other transaction went through; of this one's, nothing.
    assert _hits(probe) == [1, 1]
