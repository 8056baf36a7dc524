"""What the audit log costs: bookings and agenda reads over HTTP, with and without audit events.

    uv run python -m bench.audit_overhead [--seconds 10] [--rounds 3] [--connections 32]

The booking benchmark's database (``bench.booking``: 20 practices, 100 agendas, 2,000 patients).
Each round starts ``colloque serve`` twice, once as shipped and once through
``bench.without_audit`` (the same server with ``colloque.audit.services.record`` writing nothing:
the switch exists only in this harness), the order alternating between rounds so that drift on a
shared machine falls on both sides. Against each server wrk runs the same load: online bookings
(each request a distinct free slot), then practice admins' week agendas (20 practices, the
bookings just made in them). Medians over the rounds; the overhead is the throughput lost with
audit. The audit rows written during each run are counted, which shows the switch worked.
"""

from __future__ import annotations

import argparse
import tempfile
from dataclasses import dataclass
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
)
from colloque.accounts.models import Account
from colloque.accounts.services import do_issue_token
from colloque.audit.models import AuditEvent
from colloque.storage.engine import Database
from tests.server import free_port

DATABASE = "colloque_bench_audit"
AGENDA_DAYS = 7

AGENDA_LUA = """
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
    bookings: list[WrkResult]
    agendas: list[WrkResult]
    #: Audit rows written during each run (bookings and agenda reads together).
    events: list[int]


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
        token = do_issue_token(session, now=now, account_id=owner.account_id)
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()

    now = datetime.now(UTC)
    url = recreate_database(DATABASE)
    agendas, patients = build(url, now)
    token = _admin_token(url, now)
    budget = 3_000 * (args.seconds + 10)
    sides = {True: Side([], [], []), False: Side([], [], [])}
    with tempfile.TemporaryDirectory() as directory:
        folder = Path(directory)
        runs = [(audit, n) for n in range(args.rounds) for audit in (n % 2 == 0, n % 2 == 1)]
        prefixes = [(folder / f"bookings-{n}-{audit}", budget) for audit, n in runs]
        warmup = folder / "warmup"
        write_requests(
            [(warmup, 10_000), *prefixes],
            agendas,
            patients,
            threads=args.threads,
            count=10_000 + budget * len(prefixes),
            now=now,
        )
        paths = folder / "agendas.txt"
        _agenda_paths(paths, agendas, now)
        agenda_lua = AGENDA_LUA % {"paths": paths, "token": token}
        # A port of its own: other benchmarks may hold the harness's default one.
        port = free_port()
        with server(url, workers=args.workers, port=port) as base:
            run_wrk(
                base,
                BOOKING_LUA % {"prefix": warmup},
                connections=4,
                threads=1,
                seconds=3,
                label="warm-up",
            )
        for (audit, n), (prefix, _) in zip(runs, prefixes, strict=True):
            side = sides[audit]
            before = _audit_rows(url)
            with server(url, workers=args.workers, port=port, audit=audit) as base:
                side.bookings.append(
                    run_wrk(
                        base,
                        BOOKING_LUA % {"prefix": prefix},
                        connections=args.connections,
                        threads=args.threads,
                        seconds=args.seconds,
                        label=f"booking, round {n}, audit {audit}",
                    )
                )
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
            side.events.append(_audit_rows(url) - before)

    audited, bare = sides[True], sides[False]
    print(f"machine: {machine()}; PostgreSQL {postgres_version()}")
    print(
        f"{args.rounds} rounds, {args.connections} connections, {args.workers} server workers, "
        f"{args.seconds} s per run"
    )
    for label, pick in (("bookings", "bookings"), ("agenda weeks", "agendas")):
        with_audit: list[WrkResult] = getattr(audited, pick)
        without: list[WrkResult] = getattr(bare, pick)
        print(_show(f"  {label} with audit   ", with_audit))
        print(_show(f"  {label} without audit", without))
        print(f"    statuses with {with_audit[-1].statuses}, without {without[-1].statuses}")
        ratio = median([r.requests_per_second for r in without]) / median(
            [r.requests_per_second for r in with_audit]
        )
        print(f"    ratio without / with: {ratio:.3f} (overhead {100 * (ratio - 1):+.1f} %)")
    print(f"  audit rows written per run: with {audited.events}, without {bare.events}")


if __name__ == "__main__":
    main()
