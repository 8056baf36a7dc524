"""A practitioner's week of slots through the HTTP API (the page a patient opens), on PostgreSQL.

    uv run python -m bench.week_slots [--connections 4 16] [--rounds 3] [--baseline-src DIR]

Loads the demo generator's data once into `colloque_bench_week_slots` (kept between runs; pass
--regenerate to rebuild): by default 2,000 practitioners and 1,000,000 appointments, so that an
agenda is about as booked as a real one (a few hundred appointments between 60 days ago and 60
days ahead) and the busy-time read walks the appointments' agenda index in a table of a million
rows. Then `colloque serve --workers 2` and wrk, for each connection count, 20 s after a warm-up,
over what the practitioner's page asks: one online visit type of a random agenda, a week from its
Monday (this week half the time, then the next three less and less often), `days=7`.

With `--baseline-src DIR` (a `src/` directory of other code, e.g. `git archive main src`), the
same runs alternate, round by round, between a server importing that code and one importing this
tree, on the same data: medians over the rounds and their ratios. At the end, the resident memory
(VmRSS from /proc) of each server worker.
"""

from __future__ import annotations

import argparse
import os
import random
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, text

from bench.harness import (
    WrkResult,
    machine,
    median,
    postgres_version,
    run_wrk,
    server,
    tree_cpu_seconds,
)
from bench.search import ensure_data
from colloque.scheduling.models import Practice, PracticePractitioner, VisitType
from colloque.storage.engine import Database
from colloque.storage.migrate import upgrade
from tests.server import free_port

DATABASE = "colloque_bench_week_slots"
#: This week, then the next three: how far a patient pages.
WEEK_WEIGHTS = (50, 25, 15, 10)

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
  c200 = 0; c404 = 0; c422 = 0; c500 = 0
end
function request()
  i = i + 1
  return wrk.format("GET", queries[(i %% #queries) + 1])
end
function response(status, headers, body)
  if status == 200 then c200 = c200 + 1
  elseif status == 404 then c404 = c404 + 1
  elseif status == 422 then c422 = c422 + 1
  else c500 = c500 + 1 end
end
"""


def week_paths(url: str, count: int, *, agendas: int, now: datetime) -> list[str]:
    """Random (agenda, online visit type) pairs of ``agendas`` agendas of the data, each with a
    week a patient opens."""
    database = Database(url)
    with database.read() as session:
        pairs = session.execute(
            select(VisitType.practice_id, VisitType.practitioner_id, VisitType.visit_type_id)
            .where(VisitType.active.is_(True), VisitType.online_bookable.is_(True))
            .order_by(VisitType.visit_type_id)
        ).all()
        zones = dict(session.execute(select(Practice.practice_id, Practice.timezone)).all())
    database.dispose()
    rng = random.Random(16)
    chosen = set(rng.sample(sorted({(p.practice_id, p.practitioner_id) for p in pairs}), agendas))
    pairs = [p for p in pairs if (p.practice_id, p.practitioner_id) in chosen]
    paths = []
    for practice_id, practitioner_id, visit_type_id in rng.choices(pairs, k=count):
        today = now.astimezone(ZoneInfo(zones[practice_id])).date()
        week = rng.choices(range(len(WEEK_WEIGHTS)), weights=WEEK_WEIGHTS)[0]
        monday = today - timedelta(days=today.weekday()) + timedelta(weeks=week)
        paths.append(
            f"/api/v1/practices/{practice_id}/practitioners/{practitioner_id}/slots"
            f"?visit_type_id={visit_type_id}&from={monday.isoformat()}&days=7"
        )
    return paths


def worker_rss_mib(parent: int) -> list[float]:
    """Resident memory of each uvicorn worker (the spawned children of ``parent``)."""
    sizes = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(
                line.split(":", 1) for line in status.read_text().splitlines() if ":" in line
            )
            cmdline = (status.parent / "cmdline").read_bytes()
        except OSError:
            continue
        if int(fields["PPid"]) == parent and b"spawn_main" in cmdline:
            sizes.append(int(fields["VmRSS"].split()[0]) / 1024)
    return sorted(sizes)


def measure(
    url: str,
    script: str,
    *,
    src: str | None,
    connections: Sequence[int],
    workers: int,
    seconds: int,
    warm_up: int,
) -> tuple[dict[int, tuple[WrkResult, float]], list[float]]:
    """One server (importing ``src`` when given), warmed up, then one wrk run per count: its
    result and the server's CPU milliseconds per request (less noisy than latency on shared
    cores; PostgreSQL's own CPU is not in it)."""
    settings = {"PYTHONPATH": src} if src else None
    pids: list[int] = []
    results: dict[int, tuple[WrkResult, float]] = {}
    with server(url, workers=workers, port=free_port(), settings=settings, pids=pids) as base:
        # Long enough for each worker to have read every agenda of the mix once: the runs
        # measure the steady state, where each process's snapshot of an agenda is cached.
        run_wrk(base, script, connections=16, threads=2, seconds=warm_up, label="warm-up")
        for count in connections:
            cpu = tree_cpu_seconds(pids[0])
            result = run_wrk(
                base,
                script,
                connections=count,
                threads=2,
                seconds=seconds,
                label=f"week of slots, {count} connections",
            )
            cpu = tree_cpu_seconds(pids[0]) - cpu
            results[count] = (result, 1000 * cpu / max(result.requests, 1))
        rss = worker_rss_mib(pids[0])
    return results, rss


def load_average() -> str:
    return " ".join(f"{value:.1f}" for value in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--practitioners", type=int, default=2_000)
    parser.add_argument("--appointments", type=int, default=1_000_000)
    parser.add_argument("--connections", type=int, nargs="+", default=[4, 16])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--warm-up", type=int, default=30, help="seconds")
    parser.add_argument("--agendas", type=int, default=300, help="agendas in the mix")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--baseline-src", help="a src/ directory to compare against")
    parser.add_argument("--regenerate", action="store_true")
    parser.add_argument("--data-only", action="store_true", help="build the data and stop")
    args = parser.parse_args()

    # The demo generator's data, as bench.search builds it, under this benchmark's own name.
    url = ensure_data(
        args.practitioners, args.appointments, regenerate=args.regenerate, name=DATABASE
    )
    if args.data_only:
        return
    upgrade(url)
    now = datetime.now(UTC)
    paths = week_paths(url, 2_000, agendas=args.agendas, now=now)
    script = LUA % {"queries": ", ".join(f'"{p}"' for p in paths)}
    versions: dict[str, str | None] = {"this tree": None}
    if args.baseline_src:
        versions = {"baseline": str(Path(args.baseline_src).resolve()), **versions}
    runs: dict[str, list[dict[int, tuple[WrkResult, float]]]] = {name: [] for name in versions}
    memory: dict[str, list[float]] = {}
    for round_number in range(args.rounds):
        for name, src in versions.items():
            results, memory[name] = measure(
                url,
                script,
                src=src,
                connections=args.connections,
                workers=args.workers,
                seconds=args.seconds,
                warm_up=args.warm_up,
            )
            runs[name].append(results)
            for count, (result, cpu_ms) in results.items():
                print(
                    f"round {round_number + 1} {name:9} {count:2} connections: "
                    f"{result.requests_per_second:.0f}/s p50 {result.p50_ms:.1f} "
                    f"p95 {result.p95_ms:.1f} p99 {result.p99_ms:.1f} ms, "
                    f"server CPU {cpu_ms:.2f} ms/request {result.statuses} "
                    f"(load {load_average()})",
                    flush=True,
                )

    database = Database(url)
    with database.read() as session:
        counts = {
            "agendas": session.scalar(select(func.count()).select_from(PracticePractitioner)),
            "appointments": session.scalar(text("SELECT count(*) FROM appointments")),
        }
    database.dispose()
    print(f"machine: {machine()}; PostgreSQL {postgres_version()}; load {load_average()}")
    print(f"data: {counts}; weeks from {now.date().isoformat()}")
    print(f"{args.workers} server workers, {args.seconds} s per run, medians of {args.rounds}")
    for count in args.connections:
        print(f"{count} connections:")
        medians: dict[str, dict[str, float]] = {}
        for name in versions:
            rows = [results[count][0] for results in runs[name]]
            medians[name] = {
                "requests/s": median([r.requests_per_second for r in rows]),
                "p50": median([r.p50_ms for r in rows]),
                "p95": median([r.p95_ms for r in rows]),
                "p99": median([r.p99_ms for r in rows]),
                "CPU ms/request": median([results[count][1] for results in runs[name]]),
            }
            print(f"  {name:9} " + "  ".join(f"{k} {v:.2f}" for k, v in medians[name].items()))
        if args.baseline_src:
            print(
                "  ratio (this tree / baseline): "
                + "  ".join(
                    f"{k} {medians['this tree'][k] / medians['baseline'][k]:.2f}"
                    for k in medians["baseline"]
                )
            )
    for name, sizes in memory.items():
        print(f"resident memory per worker ({name}): " + ", ".join(f"{s:.0f} MiB" for s in sizes))


if __name__ == "__main__":
    main()
