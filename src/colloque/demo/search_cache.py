"""Building the search cache of every demo agenda with the real refresher.

:func:`colloque.search.cache.refresh_agendas` is mostly Python work (loading the agenda, the
slot engine, the ORM), so on PostgreSQL a few worker processes share the agendas; SQLite has one
writer at a time and refreshes in this process.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from datetime import datetime
from uuid import UUID

from colloque.search.cache import refresh_agendas
from colloque.storage.engine import Database

AgendaKey = tuple[UUID, UUID]

#: Agendas refreshed per transaction.
AGENDAS_PER_TRANSACTION = 100
#: Below this many agendas, starting worker processes costs more than it saves.
PARALLEL_FROM = 3_000
MAX_WORKERS = 4


def refresh_search_cache(
    db: Database,
    keys: Sequence[AgendaKey],
    *,
    now: datetime,
    report: Callable[[int, int], None],
) -> None:
    """Refresh the cached next slots of every agenda in ``keys``; ``report(done, total)``."""
    total = len(keys)
    report(0, total)
    chunks = [
        list(keys[i : i + AGENDAS_PER_TRANSACTION])
        for i in range(0, total, AGENDAS_PER_TRANSACTION)
    ]
    workers = min(MAX_WORKERS, os.cpu_count() or 1)
    if db.is_sqlite or total < PARALLEL_FROM or workers < 2:
        done = 0
        for chunk in chunks:
            _refresh_chunk(db, chunk, now)
            done += len(chunk)
            report(done, total)
        return
    url = db.url.render_as_string(hide_password=False)
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        running: set[Future[int]] = {
            pool.submit(_refresh_in_worker, url, chunk, now) for chunk in chunks
        }
        done = 0
        try:
            while running:
                finished, running = wait(running, return_when=FIRST_COMPLETED)
                for future in finished:
                    done += future.result()
                report(done, total)
        except BaseException:
            for future in running:
                future.cancel()
            raise


def _refresh_chunk(db: Database, chunk: Sequence[AgendaKey], now: datetime) -> int:
    with db.write() as session:
        refresh_agendas(session, now=now, keys=chunk)
    return len(chunk)


_WORKER_DATABASES: dict[str, Database] = {}


def _refresh_in_worker(url: str, chunk: list[AgendaKey], now: datetime) -> int:
    """Runs in a worker process, which keeps one :class:`Database` per URL."""
    db = _WORKER_DATABASES.get(url)
    if db is None:
        db = _WORKER_DATABASES[url] = Database(url, pool_size=1)
    return _refresh_chunk(db, chunk, now)
