"""A burst of requests waits for one of the API's request threads instead of opening PostgreSQL
connections beyond the pool, which the pool would close again on their return (a new connection
forks a PostgreSQL backend): the thread pool is capped at the database pool's size."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from anyio import to_thread
from fastapi.testclient import TestClient
from sqlalchemy import event

from colloque.api.app import create_app
from colloque.clock import SettableClock
from colloque.config import Settings
from colloque.storage.engine import POOL_SIZE, Database

BURST = 3 * POOL_SIZE


def test_request_threads_are_capped_at_the_pool_size(db: Database, clock: SettableClock) -> None:
    app = create_app(Settings(run_refresher=False), database=db, clock=clock)
    with TestClient(app) as client:
        assert client.portal is not None  # set while the client's lifespan runs
        tokens = client.portal.call(lambda: to_thread.current_default_thread_limiter().total_tokens)
    assert tokens == db.pool_size


@pytest.mark.postgres
def test_a_burst_opens_no_connection_beyond_the_pool(
    postgres_url: str, clock: SettableClock
) -> None:
    database = Database(postgres_url)
    opened = 0
    held = 0
    most_held = 0
    lock = threading.Lock()

    def on_connect(*_: Any) -> None:
        nonlocal opened
        with lock:
            opened += 1

    def on_checkout(*_: Any) -> None:
        nonlocal held, most_held
        with lock:
            held += 1
            most_held = max(most_held, held)
        # Long enough for the burst's requests to overlap, as under real load.
        time.sleep(0.02)

    def on_checkin(*_: Any) -> None:
        nonlocal held
        with lock:
            held -= 1

    event.listen(database.writer_engine, "connect", on_connect)
    event.listen(database.writer_engine, "checkout", on_checkout)
    event.listen(database.writer_engine, "checkin", on_checkin)
    app = create_app(Settings(run_refresher=False), database=database, clock=clock)
    try:
        with TestClient(app) as client, ThreadPoolExecutor(BURST) as pool:
            statuses = list(pool.map(lambda _: client.get("/healthz").status_code, range(BURST)))
    finally:
        database.dispose()
    assert statuses == [200] * BURST
    assert most_held > 1, "the burst never overlapped: the test proves nothing"
    assert opened <= POOL_SIZE
