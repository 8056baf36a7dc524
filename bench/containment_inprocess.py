"""What the anomaly counters cost one agenda read, in-process:
`uv run python -m bench.containment_inprocess [--blocks 16] [--size 25]`.

The database of ``bench.audit_overhead`` (``bench.booking``: 20 practices, 100 agendas, 2,000
patients), as ``colloque_bench_containment_inprocess``. One client sends requests one after the
other to the app in this process (Starlette's test client), the counters on with their limits
raised so that nothing is suspended (``bench.containment_overhead``'s settings). Blocks of
requests alternate between the counters on and off; off, ``audit.services.record`` finds no
observer bound, as when ``COLLOQUE_CONTAINMENT_ENABLED=false`` leaves the middleware out (the
middleware itself, a context variable set per request, stays on both sides). The figure is the
median over the blocks of each pair's ratio, wall and this process's CPU per read.

Two workloads, the practices' week agendas over one admin token:

- **reloads**: the weeks hold what was booked before; every read names persons the credential's
  counters already hold, as a desk reloading its day does;
- **someone new each read**: a patient books a slot in the practice just before each read (not
  timed), so every read names one person new to the counters and writes their row: the counters'
  worst steady case.

Where ``bench.containment_overhead`` measures throughput under 32 concurrent clients, whose rounds
scatter by more than the 5 % target on a shared machine, this measures the counters' work itself.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from bench.audit_inprocess import bookings_from, compare
from bench.booking import PARIS, build
from bench.containment_overhead import COUNTING
from bench.harness import machine, postgres_version, recreate_database

DATABASE = "colloque_bench_containment_inprocess"
#: Booked before the reloads, so that each week read names persons (about 30 per practice).
BOOKED_BEFORE = 600


@contextmanager
def _counters_off() -> Iterator[None]:
    import colloque.audit.services as audit_services

    # record() looks its observer up by the name it imported: replace that name for the block.
    real = audit_services.__dict__["observer"]
    audit_services.__dict__["observer"] = lambda: None
    try:
        yield
    finally:
        audit_services.__dict__["observer"] = real


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--blocks", type=int, default=16, help="pairs of blocks for each workload")
    parser.add_argument("--size", type=int, default=25, help="reads per block")
    args = parser.parse_args()
    now = datetime.now(UTC)
    url = recreate_database(DATABASE)
    agendas, patients = build(url, now)
    os.environ.update(
        {
            "COLLOQUE_DATABASE_URL": url,
            "COLLOQUE_RUN_REFRESHER": "false",
            "COLLOQUE_RUN_OUTBOX_WORKER": "false",
            "COLLOQUE_ENVIRONMENT": "development",
            **COUNTING,
        }
    )
    from sqlalchemy import func, select
    from starlette.testclient import TestClient

    from bench.audit_overhead import _admin_token
    from colloque.containment.models import CredentialWindow
    from colloque.storage.engine import Database
    from colloque.web.main import app

    reads = 2 * args.blocks * args.size
    bookings = bookings_from(agendas, patients, BOOKED_BEFORE + reads, now)
    first = (now.astimezone(PARIS) + timedelta(days=1)).date()
    week = f"from={first}&until={first + timedelta(days=6)}"
    paths = {
        practice: f"/api/v1/practices/{practice}/agenda?{week}"
        for practice in sorted({practice for practice, _, _ in agendas})
    }
    ordered = list(paths.values())
    admin = {"Authorization": f"Bearer {_admin_token(url, now)}"}
    with TestClient(app) as client:

        def book(index: int) -> str:
            token, body = bookings[index]
            answer = client.post(
                "/api/v1/appointments", json=body, headers={"Authorization": f"Bearer {token}"}
            )
            if answer.status_code != 201:
                raise RuntimeError(f"booking answered {answer.status_code}: {answer.text}")
            return paths[str(body["practice_id"])]

        def read(path: str) -> None:
            answer = client.get(path, headers=admin)
            if answer.status_code != 200:
                raise RuntimeError(f"agenda answered {answer.status_code}: {answer.text}")

        def reload(index: int) -> None:
            read(ordered[index % len(ordered)])

        def book_then_read(index: int) -> tuple[float, float]:
            path = book(BOOKED_BEFORE + index)
            started, started_cpu = time.perf_counter(), time.process_time()
            read(path)
            return time.perf_counter() - started, time.process_time() - started_cpu

        for index in range(BOOKED_BEFORE):
            book(index)
        for index in range(3 * len(ordered)):  # warm-up: windows opened, caches, statements
            reload(index)
        print(f"machine: {machine()}; PostgreSQL {postgres_version()}; load {os.getloadavg()}")
        names = ("counters on", "off")
        compare(
            "agenda weeks, reloads",
            reload,
            switch_off=_counters_off,
            names=names,
            blocks=args.blocks,
            size=args.size,
        )
        compare(
            "agenda weeks, someone new each read",
            book_then_read,
            switch_off=_counters_off,
            names=names,
            blocks=args.blocks,
            size=args.size,
        )
    database = Database(url)
    with database.read() as session:
        windows = session.scalar(select(func.count()).select_from(CredentialWindow)) or 0
    database.dispose()
    print(f"  counter rows: {windows} (one per practice the admin's token read)")
    print(f"  load at the end {os.getloadavg()}")


if __name__ == "__main__":
    main()
