"""Periodic upkeep: rebuild stale search caches, pass lapsed waitlist holds on, purge expired
account data.

It runs inside ``colloque serve`` by default (a daemon thread), or alone with
``colloque worker``. Each agenda is rebuilt in its own short transaction, so a slow rebuild never
holds a lock for long, and two workers at once only repeat each other's work.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import structlog

from colloque.accounts.upkeep import purge_expired_account_data
from colloque.authorization.principal import ANONYMOUS
from colloque.clock import Clock
from colloque.errors import NotFound
from colloque.search.services import agendas_due, refresh_agenda
from colloque.storage.engine import Database
from colloque.waitlist.services import lapse_due_offers

log = structlog.get_logger("colloque.worker")


@dataclass(frozen=True, slots=True)
class CycleReport:
    agendas_refreshed: int
    offers_lapsed: int


def run_cycle(database: Database, clock: Clock, *, batch: int) -> CycleReport:
    with database.write() as session:
        lapsed = lapse_due_offers(session, now=clock.now(), principal=ANONYMOUS)
    with database.write() as session:
        # Expired sessions, codes, recovery grants and throttle windows: nothing kept for nothing.
        purge_expired_account_data(session, now=clock.now())
    with database.read() as session:
        due = agendas_due(session, now=clock.now(), limit=batch)
    refreshed = 0
    for practice_id, practitioner_id in due:
        try:
            with database.write() as session:
                refresh_agenda(
                    session,
                    now=clock.now(),
                    practice_id=practice_id,
                    practitioner_id=practitioner_id,
                )
            refreshed += 1
        except NotFound:  # removed meanwhile
            continue
    return CycleReport(agendas_refreshed=refreshed, offers_lapsed=lapsed)


class BackgroundRefresher:
    """Runs :func:`run_cycle` every ``interval`` seconds on a daemon thread until stopped."""

    def __init__(self, database: Database, clock: Clock, *, interval: float, batch: int) -> None:
        self._database = database
        self._clock = clock
        self._interval = interval
        self._batch = batch
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="colloque-refresher", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                report = run_cycle(self._database, self._clock, batch=self._batch)
                if report.agendas_refreshed or report.offers_lapsed:
                    log.info(
                        "upkeep_cycle",
                        agendas_refreshed=report.agendas_refreshed,
                        offers_lapsed=report.offers_lapsed,
                    )
            except Exception as exc:  # keep the loop alive; the next cycle retries
                log.error("upkeep_failed", error_type=type(exc).__name__)
            self._stop.wait(self._interval)
