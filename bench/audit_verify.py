"""Time ``colloque audit verify`` over a large audit log on PostgreSQL:
`uv run python -m bench.audit_verify [--events N] [--reuse]` (N default 10,000,000).

The log is filled the fast way: events are generated in chunks and COPYed into ``audit_events``
with their leaves, and after each chunk every log it touched gets its head, as the sequencer
would have written them (the same leaf encoding and compact ranges); one checkpoint is signed at
the end. 100 practices and the global log share the events round-robin. Then the whole
verification (``audit.verify.verify``: every leaf recomputed from its row, every log's tree and
heads, the log of heads, the checkpoint) is timed, streaming, without the progress bar.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID, uuid4

import psycopg
from psycopg import sql

from bench.harness import database_url, machine, postgres_version, recreate_database
from colloque.audit import checkpoints, sequencer
from colloque.audit import verify as checks
from colloque.audit.leaf import EVENT_COLUMNS, EventFields, HeadFields, event_leaf, head_leaf
from colloque.audit.models import GLOBAL_LOG
from colloque.audit.objects import ObjectKind, pack
from colloque.audit.signing import load_key_file_signer
from colloque.crypto import transparency
from colloque.storage.engine import Database
from colloque.storage.migrate import upgrade

DATABASE = "colloque_bench_audit_verify"
ORIGIN = "bench.example/audit"
CHUNK = 50_000
PRACTICES = [UUID(int=p + 1) for p in range(100)]
START = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)


def _event(number: int) -> EventFields:
    practice = PRACTICES[number % 101] if number % 101 < 100 else None
    appointment, patient = uuid4(), uuid4()
    return EventFields(
        event_id=uuid4(),
        at=START + timedelta(milliseconds=number),
        action="booking:appointment:view",
        actor_account_id=UUID(int=number % 5_000 + 1),
        actor_role="desk",
        credential_id=UUID(int=number % 20_000 + 1),
        interface="api",
        request_id=f"req-{number:012d}",
        client_prefix="192.0.2.0/24",
        client_commitment=bytes(32),
        practice_id=practice,
        subject_id=patient,
        object_kind="appointment",
        object_id=appointment,
        objects=pack(
            {
                ObjectKind.APPOINTMENT: frozenset({appointment}),
                ObjectKind.PATIENT: frozenset({patient}),
            }
        ),
        outcome="allowed",
        reason=None,
    )


def fill(url: str, events: int) -> None:
    trees: dict[UUID, tuple[int, list[tuple[int, bytes]]]] = {}
    heads_written = 0
    heads_compact: list[tuple[int, bytes]] = []
    columns = ", ".join(EVENT_COLUMNS)
    with psycopg.connect(_driver_url(url)) as connection:
        for start in range(0, events, CHUNK):
            chunk = [_event(n) for n in range(start, min(events, start + CHUNK))]
            leaves = []
            touched: dict[UUID, None] = {}
            for event in chunk:
                log_id = event.practice_id or GLOBAL_LOG
                size, compact = trees.get(log_id, (0, []))
                leaf_hash = transparency.leaf_hash(event_leaf(event))
                leaves.append((log_id, size, event.event_id, leaf_hash))
                trees[log_id] = (size + 1, transparency.compact_range_append(compact, leaf_hash))
                touched[log_id] = None
            heads = []
            at = chunk[-1].at
            for log_id in touched:
                size, compact = trees[log_id]
                head = HeadFields(log_id, size, transparency.compact_range_root(compact), at)
                heads.append((heads_written, head.log_id, head.tree_size, head.root_hash, at))
                heads_compact = transparency.compact_range_append(
                    heads_compact, transparency.leaf_hash(head_leaf(head))
                )
                heads_written += 1
            with connection.cursor() as cursor:
                with cursor.copy(f"COPY audit_events ({columns}) FROM STDIN") as copy:
                    for event in chunk:
                        copy.write_row(event)
                with cursor.copy(
                    "COPY audit_log_leaves (log_id, leaf_index, event_id, leaf_hash) FROM STDIN"
                ) as copy:
                    for leaf in leaves:
                        copy.write_row(leaf)
                with cursor.copy(
                    "COPY audit_log_heads (head_index, log_id, tree_size, root_hash, at) FROM STDIN"
                ) as copy:
                    for head_row in heads:
                        copy.write_row(head_row)
            connection.commit()
            print(f"  {start + len(chunk):,} events", flush=True)
    connection.close()


def _without_secondary_indexes(url: str) -> tuple[str, ...]:
    """Drop the audit events' secondary indexes for the load (COPY then maintains only the
    primary key); returns their definitions, to make them again after."""
    with psycopg.connect(_driver_url(url), autocommit=True) as connection:
        indexes = connection.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'audit_events' "
            r"AND indexname NOT LIKE 'pk\_%'"
        ).fetchall()
        for name, _definition in indexes:
            connection.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(name)))
    return tuple(definition for _name, definition in indexes)


def _make_indexes(url: str, definitions: tuple[str, ...]) -> None:
    with psycopg.connect(_driver_url(url), autocommit=True) as connection:
        for definition in definitions:
            # Definitions read from pg_indexes, not literals: sent as bytes.
            connection.execute(definition.encode())
        connection.execute("ANALYZE")


def _driver_url(url: str) -> str:
    return url.replace("postgresql+psycopg", "postgresql")


def _filled_events(url: str) -> int | None:
    """The events already in the bench's database, or None when it has no audit log yet."""
    try:
        with psycopg.connect(_driver_url(url)) as connection:
            row = connection.execute("SELECT count(*) FROM audit_log_leaves").fetchone()
    except psycopg.Error:
        return None
    return None if row is None else int(row[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="keep the database of an earlier run when it holds as many events",
    )
    arguments = parser.parse_args()
    url = database_url(DATABASE)
    filled = 0.0
    if not arguments.reuse or _filled_events(url) != arguments.events:
        url = recreate_database(DATABASE)
        upgrade(url)
        began = time.perf_counter()
        indexes = _without_secondary_indexes(url)
        fill(url, arguments.events)
        _make_indexes(url, indexes)
        filled = time.perf_counter() - began
    database = Database(url)
    with tempfile.TemporaryDirectory() as keys:
        signer = load_key_file_signer(Path(keys) / "audit-signing-key")
        checkpoints.sign_if_due(
            database, signer=signer, origin=ORIGIN, now=datetime.now(UTC), cadence=None
        )
        sequencer._caches.clear()  # verify reads only the rows
        began = time.perf_counter()
        report = checks.verify(
            database,
            expected=checks.Expected(ORIGIN, signer.public_key),
            now=datetime.now(UTC),
            bound=timedelta(hours=1),
        )
        took = time.perf_counter() - began
    database.dispose()
    print(f"machine: {machine()}; PostgreSQL {postgres_version()}")
    if filled:
        print(f"filled {arguments.events:,} events in {filled:.0f} s")
    print(
        f"verify: {report.leaves:,} events in {report.logs} logs, {report.heads:,} heads, "
        f"{report.checkpoints} checkpoint: {took:.1f} s ({report.leaves / took:,.0f} events/s)"
    )


if __name__ == "__main__":
    main()
