"""What the anomaly counters cost: bookings and agenda reads over HTTP, counters on and off.

    uv run python -m bench.containment_overhead [--seconds 10] [--rounds 4] [--connections 32]

The audit benchmark's set-up (``bench.audit_overhead``: the booking benchmark's 20 practices,
100 agendas, 2,000 patients), run twice per round, the order alternating: ``colloque serve`` as
shipped, with the counters' limits raised so that nothing is suspended (the counting itself is
what is measured), and with ``COLLOQUE_CONTAINMENT_ENABLED=false``. The bookings are online
bookings by patients (the counters skip patients: only the decoy check runs); the agenda reads
are practice admins' week agendas, over 20 tokens of the admin, so that the counters' rows are
not one hot row (a desk has its own token). Each round both sides book, then both read (a server
started again for each phase), so that both read the same weeks. The overhead is the median of
the rounds' ratios.

Beside throughput, each run measures CPU per request, the server's processes and the bench
database's PostgreSQL backends, and the ratio of their sum on / off: on a saturated two-core
machine it is the steadier measure, since the time a request waits for a core is not counted and
throughput is the cores left by other jobs divided by the CPU per request (``bench.audit_overhead``
explains it, and what the sum leaves out).
"""

from __future__ import annotations

import argparse
import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select

from bench.audit_overhead import Side, _admin_token, _agenda_paths, _show, _total, cpu_report
from bench.booking import LUA as BOOKING_LUA
from bench.booking import build, write_requests
from bench.harness import (
    WrkResult,
    cpu_during,
    machine,
    median,
    postgres_version,
    recreate_database,
    run_wrk,
)
from bench.harness import server as serve
from colloque.containment.models import CredentialWindow
from colloque.storage.engine import Database
from tests.server import free_port

DATABASE = "colloque_bench_containment"
TOKENS = 20

AGENDA_LUA = """
threads = {}
function setup(thread)
  table.insert(threads, thread)
end
function init(args)
  lines = {}
  for line in io.lines("%(paths)s") do table.insert(lines, line) end
  i = 0
  c200 = 0; c404 = 0; c401 = 0; c422 = 0; c500 = 0
end
function response(status, headers, body)
  if status == 200 then c200 = c200 + 1
  elseif status == 404 then c404 = c404 + 1
  elseif status == 401 then c401 = c401 + 1
  elseif status == 422 then c422 = c422 + 1
  else c500 = c500 + 1 end
end
function request()
  i = i + 1
  local line = lines[((i - 1) %% #lines) + 1]
  local path, token = line:match("([^ ]+) ([^ ]+)")
  return wrk.format("GET", path, {["Authorization"] = "Bearer " .. token})
end
"""

#: Counting on, never tripping: the limits far above anything the load reads.
COUNTING = {
    f"COLLOQUE_CONTAINMENT_{role}_BASE": str(10**9)
    for role in ("SECRETARY", "PRACTITIONER", "ADMIN", "OPERATOR")
}
OFF = {"COLLOQUE_CONTAINMENT_ENABLED": "false"}


def _windows(url: str) -> int:
    database = Database(url)
    with database.read() as session:
        count = session.scalar(select(func.count()).select_from(CredentialWindow)) or 0
    database.dispose()
    return count


def _paired(label: str, counted: list[WrkResult], bare: list[WrkResult]) -> None:
    print(_show(f"  {label} counters on ", counted))
    print(_show(f"  {label} counters off", bare))
    print(f"    statuses on {_total(counted)}, off {_total(bare)}")
    ratios = [
        off.requests_per_second / on.requests_per_second
        for on, off in zip(counted, bare, strict=True)
    ]
    ratio = median(ratios)
    print(
        f"    ratio off / on, median of the rounds: {ratio:.3f} "
        f"(rounds {', '.join(f'{r:.2f}' for r in ratios)}; overhead {100 * (ratio - 1):+.1f} %)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()

    load_before = os.getloadavg()
    now = datetime.now(UTC)
    url = recreate_database(DATABASE)
    agendas, patients = build(url, now)
    tokens = [_admin_token(url, now) for _ in range(TOKENS)]
    budget = 3_000 * (args.seconds + 10)
    sides = {True: Side(), False: Side()}
    with tempfile.TemporaryDirectory() as directory:
        folder = Path(directory)
        prefixes = {
            (n, on): folder / f"bookings-{n}-{on}"
            for n in range(args.rounds)
            for on in (True, False)
        }
        warmup = {on: folder / f"warmup-{on}" for on in (True, False)}
        write_requests(
            [(path, 5_000) for path in warmup.values()]
            + [(path, budget) for path in prefixes.values()],
            agendas,
            patients,
            threads=args.threads,
            count=10_000 + budget * len(prefixes),
            now=now,
        )
        plain = folder / "agendas-plain.txt"
        _agenda_paths(plain, agendas, now)
        paths = folder / "agendas.txt"
        lines = plain.read_text().split()
        paths.write_text("".join(f"{path} {token}\n" for token in tokens for path in lines))
        agenda_lua = AGENDA_LUA % {"paths": paths}
        port = free_port()
        for n in range(args.rounds):
            # Both sides book, then both read: the weeks read then hold the same bookings for
            # each side (read right after its own bookings, the side read second found more
            # rows, which moved a read's cost by more than the counters do).
            order = (n % 2 == 0, n % 2 == 1)
            for phase in ("booking", "agenda"):
                for on in order:
                    side = sides[on]
                    before = _windows(url)
                    pids: list[int] = []
                    with serve(
                        url,
                        workers=args.workers,
                        port=port,
                        settings=COUNTING if on else OFF,
                        pids=pids,
                    ) as base:
                        if n < 2 and phase == "booking":
                            run_wrk(
                                base,
                                BOOKING_LUA % {"prefix": warmup[on]},
                                connections=4,
                                threads=1,
                                seconds=3,
                                label=f"warm-up, counters {on}",
                            )
                        with cpu_during(pids[-1], DATABASE) as meter:
                            run = run_wrk(
                                base,
                                BOOKING_LUA % {"prefix": prefixes[n, on]}
                                if phase == "booking"
                                else agenda_lua,
                                connections=args.connections,
                                threads=args.threads,
                                seconds=args.seconds,
                                label=f"{phase}, round {n}, counters {on}",
                            )
                        if phase == "booking":
                            side.bookings.append(run)
                            side.booking_cpu.append(meter.per_request(run.requests))
                        else:
                            side.agendas.append(run)
                            side.agenda_cpu.append(meter.per_request(run.requests))
                    if phase == "agenda":
                        # Windows are opened by the practice's reads, not by patients' bookings.
                        side.events.append(_windows(url) - before)

    counted, bare = sides[True], sides[False]
    print(f"machine: {machine()}; PostgreSQL {postgres_version()}")
    print(f"load average before {load_before}, after {os.getloadavg()}")
    print(
        f"{args.rounds} rounds, {args.connections} connections, {args.workers} server workers "
        f"each, {args.seconds} s per run"
    )
    _paired("bookings", counted.bookings, bare.bookings)
    cpu_report("bookings", ("on", "off"), counted.booking_cpu, bare.booking_cpu)
    _paired("agenda weeks", counted.agendas, bare.agendas)
    cpu_report("agenda weeks", ("on", "off"), counted.agenda_cpu, bare.agenda_cpu)
    print(f"  counter windows opened per round: on {counted.events}, off {bare.events}")


if __name__ == "__main__":
    main()
