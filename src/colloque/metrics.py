"""Prometheus metrics of this process (prometheus-client), exposed at ``/metrics``.

Labels are bounded: HTTP method, route template (never a raw path), status class, booking action.
Business counters are incremented by the services that make the change, on commit
(:func:`count_booking_on_commit`), so that a rolled-back booking is not counted.

With several worker processes (``colloque serve --workers N``), ``serve`` points
``PROMETHEUS_MULTIPROC_DIR`` at a fresh directory before the workers start; prometheus-client
then keeps each process's values in files there and a scrape, whichever worker answers it, adds
them up (:func:`exposition`).
"""

from __future__ import annotations

import enum
import shutil
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy import event
from sqlalchemy.orm import Session

__all__ = ["CONTENT_TYPE_LATEST"]

# No ``*_created`` series: they double the output and nothing here reads them.
# prometheus-client leaves these two functions unannotated.
disable_created_metrics()  # type: ignore[no-untyped-call]

REQUEST_DURATION = Histogram(
    "colloque_http_request_duration_seconds",
    "Time to answer an HTTP request, by method, route template and status class",
    ["method", "route", "status_class"],
)


class BookingAction(enum.StrEnum):
    MADE = "made"
    CANCELLED = "cancelled"
    RESCHEDULED = "rescheduled"


BOOKINGS = Counter(
    "colloque_bookings",
    "Appointments booked, cancelled and rescheduled (counted when their transaction commits)",
    ["action"],
)
for _action in BookingAction:
    BOOKINGS.labels(action=_action.value)

SEARCHES = Counter("colloque_search_requests", "Practitioner searches run")
SEARCH_ANSWERS = Counter(
    "colloque_search_answers",
    "Answers of first-page searches by specialty and city: kept (served again, still exact), "
    "stale (a kept answer no longer exact, built again), new (none kept, built)",
    ["outcome"],
)
for _outcome in ("kept", "stale", "new"):
    SEARCH_ANSWERS.labels(outcome=_outcome)


def count_booking_on_commit(session: Session, action: BookingAction) -> None:
    """Count ``action`` once the session's transaction commits; never if it rolls back."""
    counter = BOOKINGS.labels(action=action.value)

    def _committed(_session: Session) -> None:
        counter.inc()

    event.listen(session, "after_commit", _committed, once=True)


def exposition(
    *, multiprocess_dir: Path | None, outbox_oldest: datetime | None, now: datetime
) -> bytes:
    """The text exposition: this process's metrics (or every worker's, in multiprocess mode)
    and the gauges read from the database at scrape time."""
    if multiprocess_dir is not None:
        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=str(multiprocess_dir))  # type: ignore[no-untyped-call]
    else:
        registry = REGISTRY
    age = max((now - outbox_oldest).total_seconds(), 0.0) if outbox_oldest is not None else 0.0
    scraped = CollectorRegistry()
    scraped.register(_ReadAtScrape(outbox_age=age))
    return generate_latest(registry) + generate_latest(scraped)


class _ReadAtScrape(Collector):
    """Gauges computed from the database when scraped: plain values, in no process's files."""

    def __init__(self, *, outbox_age: float) -> None:
        self.outbox_age = outbox_age

    def collect(self) -> Iterator[Metric]:
        yield GaugeMetricFamily(
            "colloque_outbox_oldest_pending_age_seconds",
            "Age of the oldest outbox message not yet sent (0 when none is pending)",
            value=self.outbox_age,
        )


def prepare_multiprocess_dir(path: Path) -> None:
    """Start the workers with an empty directory: values of an earlier run must not add up."""
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
