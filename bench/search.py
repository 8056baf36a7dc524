"""Earliest-available search through the HTTP API, on PostgreSQL at national scale.

    uv run python -m bench.search [--practitioners 10000] [--appointments 1000000] [--connections 4]
        [--warmup 5] [--churn 0]

Loads the demo generator's data once into `colloque_bench_search` (kept between runs; pass
--regenerate to rebuild), starts `colloque serve`, and has wrk send searches by specialty and city
(the cities and specialties of the data, weighted like real traffic) with N concurrent connections.
Reports throughput, p50 and p95. Side by side, it times the same search's SQL alone through psql's
protocol (pgbench with the three statements a search sends), so the ratio shows what the Python side
adds.
"""

from __future__ import annotations

import argparse
import random
import threading
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import psycopg
from sqlalchemy import func, select, text

from bench.harness import (
    database_exists,
    database_url,
    machine,
    postgres_version,
    recreate_database,
    run_wrk,
    server,
)
from colloque.booking.queries import drop_cached_slots
from colloque.demo.generator import generate_demo
from colloque.demo.search_cache import refresh_search_cache
from colloque.scheduling.models import NextSlot, Practice, PracticePractitioner, Practitioner
from colloque.storage.engine import Database
from colloque.storage.migrate import upgrade

DATABASE = "colloque_bench_search"

LUA = """
local queries = {%(queries)s}
threads = {}
local counter = 0
function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end
function init(args)
  i = id * 7919
  c200 = 0; c422 = 0; c500 = 0
end
function request()
  i = i + 1
  return wrk.format("GET", queries[(i %% #queries) + 1])
end
function response(status, headers, body)
  if status == 200 then c200 = c200 + 1 elseif status == 422 then c422 = c422 + 1 else c500 = c500 + 1 end
end
"""


def ensure_data(
    practitioners: int, appointments: int, *, regenerate: bool, name: str = DATABASE
) -> str:
    if database_exists(name) and not regenerate:
        url = database_url(name)
        database = Database(url)
        with database.read() as session:
            count = session.scalar(select(func.count()).select_from(Practitioner)) or 0
        database.dispose()
        if count >= practitioners:
            return url
    url = recreate_database(name)
    upgrade(url)
    database = Database(url)
    started = datetime.now(UTC)
    generate_demo(
        database,
        seed=2026,
        practitioners=practitioners,
        patients=max(1_000, appointments // 5),
        appointments=appointments,
        now=started,
    )
    print(f"generated in {(datetime.now(UTC) - started).total_seconds():.0f} s")
    database.dispose()
    return url


def refresh_all_caches(url: str) -> None:
    """Rebuild every agenda's cached slots as of now (the data may have been loaded hours ago)."""
    database = Database(url)
    with database.read() as session:
        keys = [
            (practice_id, practitioner_id)
            for practice_id, practitioner_id in session.execute(
                select(PracticePractitioner.practice_id, PracticePractitioner.practitioner_id)
            )
        ]
    started = datetime.now(UTC)
    refresh_search_cache(database, keys, now=started, report=lambda _done, _total: None)
    print(
        f"refreshed {len(keys)} agenda caches in {(datetime.now(UTC) - started).total_seconds():.0f} s"
    )
    database.dispose()
    # Rebuilding every cache rewrites a million rows: without this, autovacuum starts on them
    # during the measured run and takes a core from it.
    with psycopg.connect(url.replace("postgresql+psycopg", "postgresql"), autocommit=True) as raw:
        raw.execute("VACUUM ANALYZE next_slots, practice_practitioners, search_cells")


class SlotChurn:
    """Takes cached slots away at a steady rate in a thread, as bookings do (the statement a
    booking runs, ``booking.queries.drop_cached_slots``), from the agendas searched most: what
    invalidates kept answers, without the rest of a booking's load."""

    def __init__(self, url: str, *, per_second: float) -> None:
        self.url = url
        self.per_second = per_second
        self.taken = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> SlotChurn:
        if self.per_second > 0:
            self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def _run(self) -> None:
        database = Database(self.url)
        rng = random.Random(5)
        with database.read() as session:
            # Each search's first page shows its cell's earliest slots: take from those.
            slots = list(
                session.execute(
                    select(
                        NextSlot.practice_id,
                        NextSlot.practitioner_id,
                        NextSlot.starts_at,
                        NextSlot.ends_at,
                    )
                    .where(NextSlot.starts_at < datetime.now(UTC) + timedelta(days=3))
                    .order_by(func.random())
                    .limit(50_000)
                )
            )
        interval = 1 / self.per_second
        next_at = time.monotonic()
        while not self._stop.is_set() and slots:
            practice_id, practitioner_id, starts_at, ends_at = slots.pop(rng.randrange(len(slots)))
            with database.write() as session:
                drop_cached_slots(
                    session,
                    practice_ids=[practice_id],
                    practitioner_id=practitioner_id,
                    start=starts_at,
                    until=ends_at,
                )
            self.taken += 1
            next_at += interval
            self._stop.wait(max(0.0, next_at - time.monotonic()))
        database.dispose()


def search_paths(url: str, count: int) -> list[str]:
    """Real (specialty, city) pairs of the data, drawn in proportion to their practitioners."""
    database = Database(url)
    with database.read() as session:
        pairs = session.execute(
            select(Practitioner.specialty, Practice.city, func.count())
            .select_from(PracticePractitioner)
            .join(Practice, Practice.practice_id == PracticePractitioner.practice_id)
            .join(
                Practitioner, Practitioner.practitioner_id == PracticePractitioner.practitioner_id
            )
            .group_by(Practitioner.specialty, Practice.city)
        ).all()
    database.dispose()
    rng = random.Random(11)
    weights = [n for _s, _c, n in pairs]
    chosen = rng.choices(pairs, weights=weights, k=count)
    return [f"/api/v1/search?{urlencode({'specialty': s, 'city': c})}" for s, c, _n in chosen]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--practitioners", type=int, default=10_000)
    parser.add_argument("--appointments", type=int, default=1_000_000)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument(
        "--warmup", type=int, default=5, help="seconds of searches before the measured ones"
    )
    parser.add_argument(
        "--churn",
        type=float,
        default=0.0,
        help="cached slots taken per second during the run, as bookings take them (0: none)",
    )
    parser.add_argument("--regenerate", action="store_true")
    parser.add_argument("--database", default=DATABASE, help="kept between runs under this name")
    args = parser.parse_args()

    url = ensure_data(
        args.practitioners, args.appointments, regenerate=args.regenerate, name=args.database
    )
    upgrade(url)
    refresh_all_caches(url)
    paths = search_paths(url, 2_000)
    script = LUA % {"queries": ", ".join(f'"{p}"' for p in paths)}
    with server(url, workers=args.workers) as base:
        run_wrk(
            base,
            script,
            connections=args.connections,
            threads=1,
            seconds=args.warmup,
            label="warm-up",
        )
        with SlotChurn(url, per_second=args.churn) as churn:
            result = run_wrk(
                base,
                script,
                connections=args.connections,
                threads=min(2, args.connections),
                seconds=args.seconds,
                label="search",
            )
    database = Database(url)
    with database.read() as session:
        counts = {
            "practitioners": session.scalar(select(func.count()).select_from(Practitioner)),
            "appointments": session.scalar(text("SELECT count(*) FROM appointments")),
        }
    database.dispose()
    print(f"machine: {machine()}; PostgreSQL {postgres_version()}")
    print(f"data: {counts}")
    print(
        f"search by specialty and city, {args.connections} connections, {args.workers} server workers, {args.seconds} s"
    )
    print(
        f"  requests/s {result.requests_per_second:.0f}  p50 {result.p50_ms:.1f} ms  p95 {result.p95_ms:.1f} ms  p99 {result.p99_ms:.1f} ms"
    )
    print(f"  statuses {result.statuses}")
    if args.churn:
        print(f"  cached slots taken during the run: {churn.taken} ({args.churn:g}/s asked)")


if __name__ == "__main__":
    main()
