"""What an audited read's event costs PostgreSQL, on the schema before and after a migration.

    uv run python -m bench.audit_statement [--before 0031] [--rounds 2] [--seconds 15]

Two databases are migrated, one to ``--before`` and one to head (``colloque_bench_audit_before``
and ``colloque_bench_audit_after``, recreated each run), and given the same history: 20,000
agenda-read events naming ten patients each, among 2,000. pgbench (16 clients) then sends to
each in turn, alternating, the statement an agenda read's event is on PostgreSQL
(``audit.services``: the event, its sequencer queue row, the client's address and 35 patients'
rows, as data-modifying CTEs). The figure is each side's median throughput and their ratio.
"""

from __future__ import annotations

import argparse
import statistics

from alembic import command
from sqlalchemy import create_engine, text

from bench.harness import machine, postgres_version, recreate_database, run_pgbench
from colloque.storage.engine import normalise_url
from colloque.storage.migrate import alembic_config

PATIENTS_NAMED = 35

#: Ten patients per past event, 20,000 events: the tables are not empty when measured.
HISTORY = """
CREATE TABLE bench_patients (n int PRIMARY KEY, id uuid NOT NULL);
INSERT INTO bench_patients SELECT g, gen_random_uuid() FROM generate_series(1, 2000) g;
INSERT INTO audit_events (event_id, at, action, actor_account_id, actor_role, practice_id,
    object_kind, credential_id, interface, request_id, client_prefix, objects, outcome)
SELECT gen_random_uuid(), now() - (g || ' seconds')::interval, 'scheduling:agenda:view',
    gen_random_uuid(), 'secretary', gen_random_uuid(), 'practice', gen_random_uuid(), 'http',
    md5(g::text), '127.0.0.0/24', '\\x00', 'allowed'
FROM generate_series(1, 20000) g;
INSERT INTO audit_event_subjects (event_id, subject_id, at)
SELECT e.event_id, p.id, e.at
FROM (SELECT event_id, at, row_number() OVER () AS r FROM audit_events) e
JOIN bench_patients p ON p.n BETWEEN (e.r % 1960) + 1 AND (e.r % 1960) + 10;
"""

EVENT = f"""\\set n random(1, {2000 - PATIENTS_NAMED})
WITH e AS (INSERT INTO audit_events (event_id, at, action, actor_account_id, actor_role,
    practice_id, object_kind, credential_id, interface, request_id, client_prefix,
    client_commitment, objects, outcome)
  VALUES (gen_random_uuid(), now(), 'scheduling:agenda:view',
    'a3bb189e-8bf9-3888-9912-ace4e6543002', 'secretary', 'b3bb189e-8bf9-3888-9912-ace4e6543002',
    'practice', 'c3bb189e-8bf9-3888-9912-ace4e6543002', 'http', md5(random()::text),
    '127.0.0.0/24', decode(repeat('ab', 32), 'hex'), decode(repeat('ab', 1200), 'hex'),
    'allowed')
  RETURNING event_id, at),
p AS (INSERT INTO audit_pending (event_id, log_id, queued_at)
  SELECT event_id, 'b3bb189e-8bf9-3888-9912-ace4e6543002', at FROM e),
a AS (INSERT INTO audit_client_addresses (event_id, at, address, salt)
  SELECT event_id, at, '127.0.0.1', decode(repeat('ab', 16), 'hex') FROM e)
INSERT INTO audit_event_subjects (event_id, subject_id, at)
SELECT e.event_id, bp.id, e.at FROM e, bench_patients bp
WHERE bp.n BETWEEN :n AND :n + {PATIENTS_NAMED - 1};
"""


def _prepare(name: str, revision: str) -> str:
    url = recreate_database(name)
    command.upgrade(alembic_config(url), revision)
    engine = create_engine(normalise_url(url), isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(HISTORY))
        connection.execute(text("VACUUM ANALYZE"))
    engine.dispose()
    return url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--before", default="0031", help="the revision to compare head with")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--clients", type=int, default=16)
    args = parser.parse_args()
    sides = {
        "before": _prepare("colloque_bench_audit_before", args.before),
        "head": _prepare("colloque_bench_audit_after", "head"),
    }
    results: dict[str, list[float]] = {side: [] for side in sides}
    for round_number in range(args.rounds):
        order = list(sides) if round_number % 2 == 0 else list(reversed(sides))
        for side in order:
            results[side].append(
                run_pgbench(
                    sides[side], EVENT, clients=args.clients, threads=2, seconds=args.seconds
                )
            )
    print(f"machine: {machine()}; PostgreSQL {postgres_version()}")
    print(f"{args.rounds} rounds, {args.clients} clients, {args.seconds} s each")
    for side, runs in results.items():
        shown = ", ".join(f"{tps:.0f}" for tps in runs)
        label = f"before ({args.before})" if side == "before" else "head"
        print(f"  {label}: {statistics.median(runs):.0f} tps (runs {shown})")
    ratio = statistics.median(results["head"]) / statistics.median(results["before"])
    print(f"  ratio head / before: {ratio:.2f}")


if __name__ == "__main__":
    main()
