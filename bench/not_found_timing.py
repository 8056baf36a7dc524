"""Does "not yours" take as long as "missing"? `uv run python -m bench.not_found_timing`.

A patient asks for an appointment of a practice they are no member of: once for somebody else's
appointment (it exists: "not yours"), once for a random id ("missing"). Both must answer the
same 404 after the same work (booking.access.reach: one query filtered by owner). Measured on a
SQLite file and on PostgreSQL (a scratch database, recreated each run), two ways:

- **service**: ``booking.access.get_appointment`` in a read transaction, raising ``NotFound``;
- **http**: ``GET /api/v1/practices/{practice_id}/appointments/{appointment_id}`` through the
  whole app in-process (httpx2 over ASGI), the 404 with its miss and denial writes included
  (probing limits that never slow or lock).

Requests are interleaved in random order (each round asks both, in a shuffled order), so that
drift and load hit both cases alike; the table gives medians and the difference with its
bootstrap interval. Nothing asserts on time.

To compare with the code before a change, run it with that code first on the path, e.g.
``PYTHONPATH=../main/src:. uv run python -m bench.not_found_timing``.
"""

from __future__ import annotations

import argparse
import logging
import os
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID, uuid4

import structlog
from fastapi.testclient import TestClient

import colloque
from bench.harness import machine, postgres_version, recreate_database
from colloque.booking.access import get_appointment
from colloque.clock import SettableClock
from colloque.errors import NotFound
from colloque.storage.engine import Database
from colloque.storage.migrate import upgrade
from tests.factories import World, book, build_world
from tests.functional.authorization.conftest import auth, make_app

T0 = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)
BENCH_DATABASE = "colloque_bench_not_found"


def timed(call: Callable[[], object]) -> int:
    started = time.perf_counter_ns()
    call()
    return time.perf_counter_ns() - started


def interleaved(
    cases: dict[str, Callable[[], object]], rounds: int, warmup: int
) -> dict[str, list[int]]:
    names = list(cases)
    times: dict[str, list[int]] = {name: [] for name in names}
    for n in range(warmup + rounds):
        random.shuffle(names)
        for name in names:
            elapsed = timed(cases[name])
            if n >= warmup:
                times[name].append(elapsed)
    return times


def bootstrap_interval(a: list[int], b: list[int], draws: int = 2000) -> tuple[float, float]:
    """95% interval of median(a) - median(b), in microseconds."""
    rng = random.Random(7)
    diffs = sorted(
        statistics.median(rng.choices(a, k=len(a))) - statistics.median(rng.choices(b, k=len(b)))
        for _ in range(draws)
    )
    return diffs[int(0.025 * draws)] / 1000, diffs[int(0.975 * draws)] / 1000


def report(label: str, times: dict[str, list[int]]) -> None:
    theirs, missing = times["not yours"], times["missing"]
    low, high = bootstrap_interval(theirs, missing)
    medians = {name: statistics.median(values) / 1000 for name, values in times.items()}
    print(
        f"| {label} | {len(theirs)} | {medians['not yours']:.0f} | {medians['missing']:.0f} | "
        f"{medians['not yours'] - medians['missing']:+.0f} [{low:+.0f}, {high:+.0f}] |"
    )


def scene(db: Database) -> tuple[World, SettableClock, UUID]:
    clock = SettableClock(T0)
    world = build_world(db, clock)
    appointment = book(db, clock, world, (T0 + timedelta(days=3)).replace(hour=9))
    return world, clock, appointment.appointment_id


def run(label: str, url: str, rounds: int, warmup: int) -> None:
    upgrade(url)
    db = Database(url)
    world, clock, theirs = scene(db)
    stranger = world.stranger.principal(db)

    def service(appointment_id: UUID) -> Callable[[], object]:
        def call() -> None:
            try:
                with db.read() as session:
                    get_appointment(
                        session,
                        now=clock.now(),
                        principal=stranger,
                        practice_id=world.practice_id,
                        appointment_id=appointment_id,
                    )
            except NotFound:
                return
            raise AssertionError("the stranger reached an appointment")

        return call

    report(
        f"{label}, service",
        interleaved(
            {"not yours": service(theirs), "missing": lambda: service(uuid4())()},
            rounds,
            warmup,
        ),
    )
    app, _sleeps = make_app(db, clock)
    base = f"/api/v1/practices/{world.practice_id}/appointments/"
    headers = auth(world.stranger)
    with TestClient(app) as client:

        def http(appointment_id: UUID) -> None:
            answer = client.get(base + str(appointment_id), headers=headers)
            assert answer.status_code == 404, answer.status_code

        report(
            f"{label}, http",
            interleaved(
                {"not yours": lambda: http(theirs), "missing": lambda: http(uuid4())},
                rounds,
                warmup,
            ),
        )
    db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2000)
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    # Request logs would time the terminal: warnings only.
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    print(f"machine: {machine()}; load average {os.getloadavg()[0]:.2f} at start")
    print(f"colloque from {Path(colloque.__file__).parent}")
    print("| case | rounds | not yours (µs) | missing (µs) | difference [95% interval] |")
    print("| --- | --- | --- | --- | --- |")
    with tempfile.TemporaryDirectory() as tmp:
        run("SQLite", f"sqlite:///{Path(tmp) / 'bench.sqlite3'}", args.rounds, args.warmup)
    if not args.no_postgres:
        run(
            f"PostgreSQL {postgres_version()}",
            recreate_database(BENCH_DATABASE),
            args.rounds,
            args.warmup,
        )
    print(f"load average {os.getloadavg()[0]:.2f} at the end")


if __name__ == "__main__":
    main()
