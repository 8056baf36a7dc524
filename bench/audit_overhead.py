"""What the audit log costs: bookings and agenda reads over HTTP, with and without audit events.

    uv run python -m bench.audit_overhead [--seconds 10] [--rounds 4] [--connections 32]

The booking benchmark's database (``bench.booking``: 20 practices, 100 agendas, 2,000 patients).
Each round starts ``colloque serve`` as shipped, then through ``bench.without_audit`` (the same
server with ``colloque.audit.services.record`` writing nothing: the switch exists only in this
harness), the order alternating between rounds, and gives each the same load: online bookings
(each request a distinct free slot), then, once both sides have booked, practice admins' week
agendas (20 practices, with the bookings made in them: both sides read the same weeks, a server
started again for each phase). The overhead is the median of
the rounds' throughput ratios, each taken from two runs under a minute apart, so that the drift of
a shared machine falls on both sides. The audit rows written during each run are counted, which
shows the switch worked.

Beside throughput, each run measures CPU per request (``bench.harness.cpu_during``): the server's
processes, the bench database's PostgreSQL backends, and their sum, whose ratio with / without is
the steadier measure of the overhead. On two cores shared with wrk, PostgreSQL and other people's
jobs, the machine is saturated, and a CPU-bound server's throughput is the cores it gets divided by
the CPU one request needs: the numerator is whatever the other jobs leave, and it changes from one
run to the next, which is why the rounds' throughput ratios scatter more than the effect. CPU time
is only counted while a process runs on a core, so the time a request spends waiting for one (the
other jobs' share) is not in it; the CPU per request is the denominator alone. The sum is the
part of it this server and its database spend; what it leaves out, and why it is not exact:

- PostgreSQL's shared processes (WAL writer, checkpointer, background writer) also work for the
  commits, but for every database on the machine, so they are reported apart, not in the sum;
- wrk's own CPU, the same on both sides for the same requests;
- backends that end during a run take their CPU with them: the run reports how many ended (a
  server's pool keeps its connections, so none should);
- waiting is not free of cost: a busy machine switches contexts and misses caches more, so CPU per
  request still drifts with the load (at load 7 to 21 its rounds scattered almost as much as
  throughput's: docs/benchmarks.md, eleventh session). A commit's wait for the WAL flush is
  waiting too: it costs latency, not CPU, so a side that waits more can get fewer cores, and its
  throughput ratio then exceeds its CPU ratio.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from bench.booking import LUA as BOOKING_LUA
from bench.booking import PARIS, build, write_requests
from bench.harness import (
    CpuPerRequest,
    WrkResult,
    cpu_during,
    machine,
    median,
    postgres_version,
    recreate_database,
    run_wrk,
    server,
)
from colloque.accounts.models import Account
from colloque.accounts.services import do_issue_token
from colloque.audit.models import AuditEvent
from colloque.storage.engine import Database
from tests.server import free_port

DATABASE = "colloque_bench_audit"
AGENDA_DAYS = 7

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
function request()
  i = i + 1
  return wrk.format("GET", lines[((i - 1) %% #lines) + 1], {["Authorization"] = "Bearer %(token)s"})
end
function response(status, headers, body)
  if status == 200 then c200 = c200 + 1
  elseif status == 404 then c404 = c404 + 1
  elseif status == 401 then c401 = c401 + 1
  elseif status == 422 then c422 = c422 + 1
  else c500 = c500 + 1 end
end
"""


@dataclass
class Side:
    bookings: list[WrkResult] = field(default_factory=list)
    agendas: list[WrkResult] = field(default_factory=list)
    #: Audit rows written during each round (bookings and agenda reads together).
    events: list[int] = field(default_factory=list)
    #: CPU per request, each run: the server's processes and the database's backends.
    booking_cpu: list[CpuPerRequest] = field(default_factory=list)
    agenda_cpu: list[CpuPerRequest] = field(default_factory=list)


def _audit_rows(url: str) -> int:
    database = Database(url)
    with database.read() as session:
        count = session.scalar(select(func.count()).select_from(AuditEvent)) or 0
    database.dispose()
    return count


def _admin_token(url: str, now: datetime) -> str:
    """A bearer token of the practices' admin (``bench.booking`` made one account own them all)."""
    database = Database(url)
    with database.write() as session:
        owner = session.scalars(select(Account).where(Account.display_name == "Bench admin")).one()
        token = do_issue_token(session, now=now, account_id=owner.account_id, integration=True)
    database.dispose()
    return token


def _agenda_paths(path: Path, agendas: list[tuple[str, str, str]], now: datetime) -> None:
    first = (now.astimezone(PARIS) + timedelta(days=1)).date()
    last = first + timedelta(days=AGENDA_DAYS - 1)
    practices = sorted({practice for practice, _, _ in agendas})
    path.write_text(
        "".join(
            f"/api/v1/practices/{practice}/agenda?from={first}&until={last}\n"
            for practice in practices
        )
    )


def _show(label: str, runs: list[WrkResult]) -> str:
    rates = [run.requests_per_second for run in runs]
    return (
        f"{label}: {median(rates):.0f}/s (runs {', '.join(f'{r:.0f}' for r in rates)}), "
        f"p50 {median([run.p50_ms for run in runs]):.1f} ms, "
        f"p95 {median([run.p95_ms for run in runs]):.1f} ms"
    )


def _paired(label: str, audited: list[WrkResult], bare: list[WrkResult]) -> None:
    print(_show(f"  {label} with audit   ", audited))
    print(_show(f"  {label} without audit", bare))
    print(f"    statuses with {_total(audited)}, without {_total(bare)}")
    # Each round ran both servers back to back: its ratio is free of the drift between rounds.
    ratios = [
        without.requests_per_second / with_audit.requests_per_second
        for with_audit, without in zip(audited, bare, strict=True)
    ]
    ratio = median(ratios)
    print(
        f"    ratio without / with, median of the rounds: {ratio:.3f} "
        f"(rounds {', '.join(f'{r:.2f}' for r in ratios)}; overhead {100 * (ratio - 1):+.1f} %)"
    )


def _cpu_line(cpu: list[CpuPerRequest]) -> str:
    def part(values: list[float]) -> str:
        return f"{median(values):.2f}"

    return (
        f"server {part([c.server for c in cpu])} + database {part([c.database for c in cpu])}"
        f" = {part([c.total for c in cpu])} ms (shared processes {part([c.shared for c in cpu])}"
        f" ms; backends opened {sum(c.opened for c in cpu)}, ended {sum(c.ended for c in cpu)})"
    )


def cpu_report(
    label: str, names: tuple[str, str], featured: list[CpuPerRequest], bare: list[CpuPerRequest]
) -> None:
    """CPU per request, server and database, each run and as medians of the rounds, and the
    ratio of their sum with the feature / without: steadier than throughput (module docstring)."""
    on, off = names
    for n, (with_feature, without) in enumerate(zip(featured, bare, strict=True)):
        print(
            f"    round {n}: {on} {with_feature.server:.2f} + {with_feature.database:.2f} ="
            f" {with_feature.total:.2f} ms, {off} {without.server:.2f} + {without.database:.2f}"
            f" = {without.total:.2f} ms; shared {with_feature.shared:.2f} / {without.shared:.2f}"
            f" ms; backends opened {with_feature.opened} / {without.opened}, ended"
            f" {with_feature.ended} / {without.ended}"
        )
    print(f"    CPU per request, {on}:  {_cpu_line(featured)}")
    print(f"    CPU per request, {off}: {_cpu_line(bare)}")
    parts = {
        "server": ([c.server for c in featured], [c.server for c in bare]),
        "database": ([c.database for c in featured], [c.database for c in bare]),
        "sum": ([c.total for c in featured], [c.total for c in bare]),
    }
    for name, (ons, offs) in parts.items():
        ratios = [a / max(b, 1e-9) for a, b in zip(ons, offs, strict=True)]
        print(
            f"    {label} CPU per request ({name}), {on} / {off}, median of the rounds:"
            f" {median(ratios):.3f} (rounds {', '.join(f'{r:.2f}' for r in ratios)})"
        )


def _total(runs: list[WrkResult]) -> dict[str, int]:
    totals: dict[str, int] = {}
    for run in runs:
        for status, count in run.statuses.items():
            totals[status] = totals.get(status, 0) + count
    return totals


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
    token = _admin_token(url, now)
    budget = 3_000 * (args.seconds + 10)
    sides = {True: Side(), False: Side()}
    with tempfile.TemporaryDirectory() as directory:
        folder = Path(directory)
        prefixes = {
            (n, audit): folder / f"bookings-{n}-{audit}"
            for n in range(args.rounds)
            for audit in (True, False)
        }
        warmup = {audit: folder / f"warmup-{audit}" for audit in (True, False)}
        write_requests(
            [(path, 5_000) for path in warmup.values()]
            + [(path, budget) for path in prefixes.values()],
            agendas,
            patients,
            threads=args.threads,
            count=10_000 + budget * len(prefixes),
            now=now,
        )
        paths = folder / "agendas.txt"
        _agenda_paths(paths, agendas, now)
        agenda_lua = AGENDA_LUA % {"paths": paths, "token": token}
        # A port of its own: other benchmarks may hold the harness's default one. One server at
        # a time: two, each with its pools, would take PostgreSQL's connections from the others.
        port = free_port()
        for n in range(args.rounds):
            # The order alternates, so that neither side always runs on a warmer machine. Both
            # sides book, then both read: the weeks read then hold the same bookings for each
            # side (read right after its own bookings, the side read second found more rows,
            # which moved a read's cost by more than the audit log does).
            order = (n % 2 == 0, n % 2 == 1)
            written = {True: 0, False: 0}
            for phase in ("booking", "agenda"):
                for audit in order:
                    side = sides[audit]
                    before = _audit_rows(url)
                    pids: list[int] = []
                    with server(
                        url,
                        workers=args.workers,
                        port=port,
                        audit=audit,
                        pids=pids,
                        # The anomaly counters (fed by audit events) would suspend the admin
                        # reading 20 practices' weeks at full speed; bench.containment_overhead
                        # measures them.
                        settings={"COLLOQUE_CONTAINMENT_ENABLED": "false"},
                    ) as base:
                        if n < 2 and phase == "booking":
                            # Each server's first start: its caches, then the real runs.
                            run_wrk(
                                base,
                                BOOKING_LUA % {"prefix": warmup[audit]},
                                connections=4,
                                threads=1,
                                seconds=3,
                                label=f"warm-up, audit {audit}",
                            )
                            before = _audit_rows(url)
                        with cpu_during(pids[-1], DATABASE) as meter:
                            run = run_wrk(
                                base,
                                BOOKING_LUA % {"prefix": prefixes[n, audit]}
                                if phase == "booking"
                                else agenda_lua,
                                connections=args.connections,
                                threads=args.threads,
                                seconds=args.seconds,
                                label=f"{phase}, round {n}, audit {audit}",
                            )
                        if phase == "booking":
                            side.bookings.append(run)
                            side.booking_cpu.append(meter.per_request(run.requests))
                        else:
                            side.agendas.append(run)
                            side.agenda_cpu.append(meter.per_request(run.requests))
                    written[audit] += _audit_rows(url) - before
            for audit in order:
                sides[audit].events.append(written[audit])

    audited, bare = sides[True], sides[False]
    print(f"machine: {machine()}; PostgreSQL {postgres_version()}")
    print(f"load average before {load_before}, after {os.getloadavg()}")
    print(
        f"{args.rounds} rounds, {args.connections} connections, {args.workers} server workers "
        f"each, {args.seconds} s per run"
    )
    _paired("bookings", audited.bookings, bare.bookings)
    cpu_report("bookings", ("with", "without"), audited.booking_cpu, bare.booking_cpu)
    _paired("agenda weeks", audited.agendas, bare.agendas)
    cpu_report("agenda weeks", ("with", "without"), audited.agenda_cpu, bare.agenda_cpu)
    print(f"  audit rows written per round: with {audited.events}, without {bare.events}")


if __name__ == "__main__":
    main()
