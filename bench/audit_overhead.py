"""What the audit log costs: bookings and agenda reads over HTTP, with and without audit events.

    uv run python -m bench.audit_overhead [--seconds 10] [--rounds 4] [--connections 32]

The booking benchmark's database (``bench.booking``: 20 practices, 100 agendas, 2,000 patients).
Each round starts ``colloque serve`` as shipped, then through ``bench.without_audit`` (the same
server with ``colloque.audit.services.record`` writing nothing: the switch exists only in this
harness), the order alternating between rounds, and gives each the same load: online bookings
(each request a distinct free slot), then practice admins' week agendas (20 practices, with the
bookings just made in them). The overhead is the median of
the rounds' throughput ratios, each taken from two runs under a minute apart, so that the drift of
a shared machine falls on both sides. The audit rows written during each run are counted, which
shows the switch worked.
"""

from __future__ import annotations

import argparse
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from bench.booking import LUA as BOOKING_LUA
from bench.booking import PARIS, build, write_requests
from bench.harness import (
    WrkResult,
    machine,
    median,
    postgres_version,
    recreate_database,
    run_wrk,
    server,
    tree_cpu_seconds,
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
    #: The server processes' CPU milliseconds per request, each run (PostgreSQL's not counted).
    booking_cpu: list[float] = field(default_factory=list)
    agenda_cpu: list[float] = field(default_factory=list)


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


def _cpu(label: str, audited: list[float], bare: list[float]) -> None:
    """The server's own CPU per request: steadier than throughput on a shared machine, since
    time spent waiting for the cores is not counted."""
    ratios = [with_audit / without for with_audit, without in zip(audited, bare, strict=True)]
    print(
        f"    server CPU per request: with {median(audited):.2f} ms, without "
        f"{median(bare):.2f} ms; ratio with / without, median of the rounds: "
        f"{median(ratios):.3f} (rounds {', '.join(f'{r:.2f}' for r in ratios)})"
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
            # The order alternates, so that neither side always runs on a warmer machine.
            for audit in (n % 2 == 0, n % 2 == 1):
                side = sides[audit]
                before = _audit_rows(url)
                pids: list[int] = []
                with server(
                    url,
                    workers=args.workers,
                    port=port,
                    audit=audit,
                    pids=pids,
                    # The anomaly counters (fed by audit events) would suspend the admin reading
                    # 20 practices' weeks at full speed; bench.containment_overhead measures them.
                    settings={"COLLOQUE_CONTAINMENT_ENABLED": "false"},
                ) as base:
                    if n < 2:  # each server's first start: its caches, then the real runs
                        run_wrk(
                            base,
                            BOOKING_LUA % {"prefix": warmup[audit]},
                            connections=4,
                            threads=1,
                            seconds=3,
                            label=f"warm-up, audit {audit}",
                        )
                        before = _audit_rows(url)
                    cpu = tree_cpu_seconds(pids[-1])
                    side.bookings.append(
                        run_wrk(
                            base,
                            BOOKING_LUA % {"prefix": prefixes[n, audit]},
                            connections=args.connections,
                            threads=args.threads,
                            seconds=args.seconds,
                            label=f"booking, round {n}, audit {audit}",
                        )
                    )
                    after_bookings = tree_cpu_seconds(pids[-1])
                    spent, cpu = after_bookings - cpu, after_bookings
                    side.booking_cpu.append(1000 * spent / max(1, side.bookings[-1].requests))
                    side.agendas.append(
                        run_wrk(
                            base,
                            agenda_lua,
                            connections=args.connections,
                            threads=args.threads,
                            seconds=args.seconds,
                            label=f"agenda, round {n}, audit {audit}",
                        )
                    )
                    spent = tree_cpu_seconds(pids[-1]) - cpu
                    side.agenda_cpu.append(1000 * spent / max(1, side.agendas[-1].requests))
                side.events.append(_audit_rows(url) - before)

    audited, bare = sides[True], sides[False]
    print(f"machine: {machine()}; PostgreSQL {postgres_version()}")
    print(
        f"{args.rounds} rounds, {args.connections} connections, {args.workers} server workers "
        f"each, {args.seconds} s per run"
    )
    _paired("bookings", audited.bookings, bare.bookings)
    _cpu("bookings", audited.booking_cpu, bare.booking_cpu)
    _paired("agenda weeks", audited.agendas, bare.agendas)
    _cpu("agenda weeks", audited.agenda_cpu, bare.agenda_cpu)
    print(f"  audit rows written per round: with {audited.events}, without {bare.events}")


if __name__ == "__main__":
    main()
