"""Does "not yours" take as long as "missing"? `uv run python -m bench.not_found_timing`.

Every lookup by id that a caller may aim at somebody else's object is asked twice per round: once
for an object that exists but is not the caller's ("not yours"), once for a random id
("missing"). Both must answer the same after the same work (one query filtered by the caller's
right: ``booking.access.reach``, ``patients.services.reach_held_patient``, the waitlist's
``reach_entry`` and ``reach_offer``, ``records.threads.held_patient``, the registry's lookups).
Measured on a SQLite file and on PostgreSQL (a scratch database, recreated each run), two ways:

- **service**: the lookup alone in a read transaction, raising ``NotFound`` (appointments,
  patients, waitlist entries and offers, a records patient, a registry patient);
- **http**: the whole request through the app in-process (httpx2 over ASGI), its 404 (or 422 for
  a paging cursor) with the miss and denial writes included (probing limits that never slow or
  lock), for every lookup of ``tests/functional/authorization/lookups.py``: appointments, the
  patient of an online booking and of a waitlist entry, waitlist entries and offers, relatives,
  a patient's messages and access history, documents (as holder and as practitioner), an items
  cursor, and a registry patient.

Requests are interleaved in random order (each round asks both, in a shuffled order), so that
drift and load hit both cases alike; the table gives medians and the difference with its
bootstrap interval. Nothing asserts on time. ``--only WORD`` keeps the cases whose name has it.

To compare with the code before a change, run it with that code first on the path, e.g.
``PYTHONPATH=../main/src:. uv run python -m bench.not_found_timing`` (the service cases need the
lookups this version calls).
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
from datetime import UTC, datetime
from pathlib import Path
from uuid import UUID, uuid4

import structlog
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

import colloque
from bench.harness import machine, postgres_version, recreate_database
from colloque.authorization.policy import Action
from colloque.booking.access import get_appointment
from colloque.booking.waitlist.offers import reach_entry, reach_offer
from colloque.clock import SettableClock
from colloque.config import Settings
from colloque.errors import NotFound
from colloque.patients.registry import reach_practice_patient
from colloque.patients.services import reach_held_patient
from colloque.principal import Principal
from colloque.records.threads import held_patient
from colloque.storage.engine import Database
from colloque.storage.migrate import upgrade
from tests.factories import World, build_world
from tests.functional.authorization.conftest import make_app
from tests.functional.authorization.lookups import (
    LOOKUP_NAMES,
    Lookup,
    Theirs,
    build_theirs,
    lookups,
)

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


def scene(db: Database) -> tuple[World, SettableClock, Theirs]:
    clock = SettableClock(T0)
    world = build_world(db, clock)
    return world, clock, build_theirs(db, clock, world)


#: A lookup alone: (who asks, the call with an id, somebody else's id).
ServiceCase = tuple[Principal, Callable[[Session, Principal, UUID], object], UUID]


def service_cases(db: Database, world: World, theirs: Theirs) -> dict[str, ServiceCase]:
    stranger = world.stranger.principal(db)
    practice_id = world.practice_id
    return {
        "appointment": (
            stranger,
            lambda s, p, i: get_appointment(
                s, now=T0, principal=p, practice_id=practice_id, appointment_id=i
            ),
            theirs.appointment,
        ),
        "patient": (
            stranger,
            lambda s, p, i: reach_held_patient(
                s, principal=p, action=Action.PATIENT_RELATIVE_MANAGE, patient_id=i
            ),
            world.child_patient_id,
        ),
        "waitlist entry": (
            stranger,
            lambda s, p, i: reach_entry(s, principal=p, practice_id=practice_id, entry_id=i),
            theirs.entry,
        ),
        "waitlist offer": (
            stranger,
            lambda s, p, i: reach_offer(s, principal=p, practice_id=practice_id, offer_id=i),
            theirs.offer,
        ),
        "records patient": (
            stranger,
            lambda s, p, i: held_patient(
                s, p, Action.PATIENT_RECORDS_VIEW, practice_id, i, known_there=True
            ),
            world.holder_patient_id,
        ),
        "registry patient": (
            world.secretary.principal(db),
            lambda s, p, i: reach_practice_patient(
                s, principal=p, practice_id=practice_id, patient_id=i
            ),
            theirs.unregistered_patient,
        ),
    }


def pair(call: Callable[[UUID], None], theirs: UUID) -> dict[str, Callable[[], object]]:
    """The two cases of a round: somebody else's object, and a random id (new each time)."""
    return {"not yours": lambda: call(theirs), "missing": lambda: call(uuid4())}


def in_service(db: Database, name: str, case: ServiceCase) -> Callable[[UUID], None]:
    principal, lookup, _theirs = case

    def call(object_id: UUID) -> None:
        try:
            with db.read() as session:
                lookup(session, principal, object_id)
        except NotFound:
            return
        raise AssertionError(f"reached somebody else's {name}")

    return call


def over_http(client: TestClient, world: World, spec: Lookup) -> Callable[[UUID], None]:
    person = spec.who(world)

    def call(object_id: UUID) -> None:
        answer = spec.request(client, person, object_id)
        assert answer.status_code == spec.status, answer.status_code

    return call


def run(label: str, url: str, rounds: int, warmup: int, only: str) -> None:
    upgrade(url)
    db = Database(url)
    world, clock, theirs = scene(db)
    for name, case in service_cases(db, world, theirs).items():
        if only in name:
            report(
                f"{label}, service, {name}",
                interleaved(pair(in_service(db, name, case), case[2]), rounds, warmup),
            )
    # Thousands of reads by one staff token would pass the anomaly counters' limits: the
    # suspension is not what is timed here.
    app, _sleeps = make_app(
        db, clock, settings=Settings(run_refresher=False, containment_enabled=False)
    )
    every = lookups(world, theirs)
    with TestClient(app) as client:
        for name in LOOKUP_NAMES:
            if only in name:
                spec, foreign = every[name]
                report(
                    f"{label}, http, {name}",
                    interleaved(pair(over_http(client, world, spec), foreign), rounds, warmup),
                )
    db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2000)
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--only", default="", help="only the cases whose name has this")
    args = parser.parse_args()
    # Request logs would time the terminal: warnings only.
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    print(f"machine: {machine()}; load average {os.getloadavg()[0]:.2f} at start")
    print(f"colloque from {Path(colloque.__file__).parent}")
    print("| case | rounds | not yours (µs) | missing (µs) | difference [95% interval] |")
    print("| --- | --- | --- | --- | --- |")
    with tempfile.TemporaryDirectory() as tmp:
        run(
            "SQLite",
            f"sqlite:///{Path(tmp) / 'bench.sqlite3'}",
            args.rounds,
            args.warmup,
            args.only,
        )
    if not args.no_postgres:
        run(
            f"PostgreSQL {postgres_version()}",
            recreate_database(BENCH_DATABASE),
            args.rounds,
            args.warmup,
            args.only,
        )
    print(f"load average {os.getloadavg()[0]:.2f} at the end")


if __name__ == "__main__":
    main()
