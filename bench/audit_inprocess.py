"""What the audit log costs one request, in-process: `uv run python -m bench.audit_inprocess [--blocks 12]`.

The same database as ``bench.audit_overhead`` (``bench.booking``: 20 practices, 100 agendas,
2,000 patients), as ``colloque_bench_audit_inprocess``. One client sends requests one after the
other to the app in this process (Starlette's test client): online bookings of distinct free
slots, then the practices' week agendas with those bookings in them. Blocks of requests
alternate between the app as shipped and the same app with every reference to
``colloque.audit.services.record`` replaced by a function that writes nothing (the switch exists
in this harness only). Each block's wall time and this process's CPU time per request are taken,
and the figure is the median over the blocks of each pair's ratio, so the drift of a shared
machine falls on both sides.

Where ``bench.audit_overhead`` measures throughput under 32 concurrent clients (its figures
scatter when other jobs share the cores), this one measures one request at a time: every read's
commit then waits for its own WAL flush, with no other commit to share it, which is the audit
log's worst case.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from bench.booking import OPEN_FROM, OPEN_UNTIL, PARIS, SLOT_MINUTES, build
from bench.harness import machine, median, postgres_version, recreate_database

DATABASE = "colloque_bench_audit_inprocess"
NO_EVENT = UUID(int=0)


def _write_nothing(*_args: Any, **_kwargs: Any) -> UUID:
    return NO_EVENT


@contextmanager
def _without_audit() -> Iterator[None]:
    """Every module's ``record`` (bound at import by name) replaced by :func:`_write_nothing`."""
    import colloque.audit.services as audit_services

    real = audit_services.record
    holders = [
        module
        for module in list(sys.modules.values())
        if module is not None
        and module.__name__.startswith("colloque.")
        and getattr(module, "record", None) is real
    ]
    for module in holders:
        module.__dict__["record"] = _write_nothing
    try:
        yield
    finally:
        for module in holders:
            module.__dict__["record"] = real


def bookings_from(
    agendas: list[tuple[str, str, str]], patients: list[tuple[str, str]], count: int, now: datetime
) -> list[tuple[str, dict[str, object]]]:
    """Distinct free slots over the agendas, from tomorrow: (token, body)."""
    rng = random.Random(7)
    first = (now.astimezone(PARIS) + timedelta(days=1)).date()
    per_day = (OPEN_UNTIL - OPEN_FROM) // SLOT_MINUTES
    requests = []
    for n in range(count):
        practice, practitioner, _visit_type = agendas[n % len(agendas)]
        slot = n // len(agendas)
        day = first + timedelta(days=slot // per_day)
        minute = OPEN_FROM + (slot % per_day) * SLOT_MINUTES
        local = datetime(day.year, day.month, day.day, minute // 60, minute % 60, tzinfo=PARIS)
        token, patient_id = patients[rng.randrange(len(patients))]
        body: dict[str, object] = {
            "practice_id": practice,
            "practitioner_id": practitioner,
            "duration_minutes": SLOT_MINUTES,
            "patient_id": patient_id,
            "starts_at": local.astimezone(UTC).isoformat(),
        }
        requests.append((token, body))
    return requests


def _timed(
    send: Callable[[int], tuple[float, float] | None], indexes: range
) -> tuple[float, float]:
    """Wall and CPU milliseconds per request over ``indexes``."""
    wall = cpu = 0.0
    for index in indexes:
        started, started_cpu = time.perf_counter(), time.process_time()
        own = send(index)
        if own is None:
            wall += time.perf_counter() - started
            cpu += time.process_time() - started_cpu
        else:
            wall += own[0]
            cpu += own[1]
    count = len(indexes)
    return 1000 * wall / count, 1000 * cpu / count


def compare(
    label: str,
    send: Callable[[int], tuple[float, float] | None],
    *,
    switch_off: Callable[[], AbstractContextManager[None]],
    names: tuple[str, str] = ("with audit", "without"),
    blocks: int,
    size: int,
) -> None:
    """Pairs of blocks, the feature on and off, the order alternating; medians of the pairs'
    ratios. ``send`` may time its own request (returning wall and CPU seconds) when it does
    untimed work around it; otherwise the whole call is timed."""
    on: list[tuple[float, float]] = []
    off: list[tuple[float, float]] = []
    for block in range(blocks):
        first = range(2 * block * size, (2 * block + 1) * size)
        second = range((2 * block + 1) * size, (2 * block + 2) * size)
        if block % 2 == 0:
            on.append(_timed(send, first))
            with switch_off():
                off.append(_timed(send, second))
        else:
            with switch_off():
                off.append(_timed(send, first))
            on.append(_timed(send, second))
    for name, which in (("wall", 0), ("CPU", 1)):
        ratios = [a[which] / b[which] for a, b in zip(on, off, strict=True)]
        print(
            f"  {label}, {name} per request: {names[0]} {median([a[which] for a in on]):.2f}"
            f" ms, {names[1]} {median([b[which] for b in off]):.2f} ms; ratio on / off, "
            f"median of {blocks} pairs: {median(ratios):.3f} "
            f"(overhead {100 * (median(ratios) - 1):+.1f} %; pairs "
            f"{min(ratios):.3f} to {max(ratios):.3f})"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--blocks", type=int, default=12, help="pairs of blocks for each kind")
    parser.add_argument("--size", type=int, default=25, help="requests per block")
    args = parser.parse_args()
    now = datetime.now(UTC)
    url = recreate_database(DATABASE)
    agendas, patients = build(url, now)
    os.environ.update(
        {
            "COLLOQUE_DATABASE_URL": url,
            "COLLOQUE_RUN_REFRESHER": "false",
            "COLLOQUE_RUN_OUTBOX_WORKER": "false",
            # Fed by audit events, the anomaly counters would suspend the admin's token;
            # bench.containment_overhead measures them.
            "COLLOQUE_CONTAINMENT_ENABLED": "false",
            "COLLOQUE_ENVIRONMENT": "development",
        }
    )
    from starlette.testclient import TestClient

    from bench.audit_overhead import _admin_token
    from colloque.web.main import app

    bookings = bookings_from(agendas, patients, 2 * args.blocks * args.size + 50, now)
    first = (now.astimezone(PARIS) + timedelta(days=1)).date()
    practices = sorted({practice for practice, _, _ in agendas})
    agenda_paths = [
        f"/api/v1/practices/{practice}/agenda?from={first}&until={first + timedelta(days=6)}"
        for practice in practices
    ]
    admin = {"Authorization": f"Bearer {_admin_token(url, now)}"}
    with TestClient(app) as client:

        def book(index: int) -> None:
            token, body = bookings[index + 50]
            answer = client.post(
                "/api/v1/appointments", json=body, headers={"Authorization": f"Bearer {token}"}
            )
            if answer.status_code != 201:
                raise RuntimeError(f"booking answered {answer.status_code}: {answer.text}")

        def read_agenda(index: int) -> None:
            answer = client.get(agenda_paths[index % len(agenda_paths)], headers=admin)
            if answer.status_code != 200:
                raise RuntimeError(f"agenda answered {answer.status_code}")

        for index in range(-50, 0):  # warm-up: caches, pools, the compiled statements
            book(index)
        for index in range(2 * len(agenda_paths)):
            read_agenda(index)
        print(f"machine: {machine()}; PostgreSQL {postgres_version()}; load {os.getloadavg()}")
        for label, send in (("bookings", book), ("agenda weeks", read_agenda)):
            compare(label, send, switch_off=_without_audit, blocks=args.blocks, size=args.size)


if __name__ == "__main__":
    main()
