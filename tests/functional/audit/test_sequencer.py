"""The sequencer integrates every committed event exactly once, in a consistent tree per log."""

from __future__ import annotations

import threading
from datetime import timedelta
from uuid import UUID

import pytest
from sqlalchemy import func, select

from colloque.audit import checkpoints, sequencer
from colloque.audit.models import (
    GLOBAL_LOG,
    AuditCheckpoint,
    AuditLogHead,
    AuditLogLeaf,
    AuditPending,
)
from colloque.audit.upkeep import Sealing
from colloque.clock import SettableClock
from colloque.crypto import transparency
from colloque.errors import InvalidInput
from colloque.storage.engine import Database
from tests.functional.audit.conftest import (
    ORIGIN,
    PRACTICE_A,
    PRACTICE_B,
    verify,
    write_events,
)


def _leaves_by_log(db: Database) -> dict[object, list[object]]:
    with db.read() as session:
        rows = session.execute(
            select(AuditLogLeaf.log_id, AuditLogLeaf.event_id).order_by(
                AuditLogLeaf.log_id, AuditLogLeaf.leaf_index
            )
        ).all()
    logs: dict[object, list[object]] = {}
    for log_id, event_id in rows:
        logs.setdefault(log_id, []).append(event_id)
    return logs


def test_events_go_to_their_practice_log_in_order(
    db: Database, clock: SettableClock, sealing: Sealing
) -> None:
    ids = write_events(db, clock, 9, [PRACTICE_A, None, PRACTICE_B])
    report = sealing.run(db, clock)
    assert (report.integrated, report.checkpoint, report.exported) == (9, 9, 1)
    logs = _leaves_by_log(db)
    assert logs == {PRACTICE_A: ids[0::3], GLOBAL_LOG: ids[1::3], PRACTICE_B: ids[2::3]}
    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(AuditPending)) == 0
        # A batch of 3 events spans three logs: one head each, three batches.
        assert session.scalar(select(func.count()).select_from(AuditLogHead)) == 9
        note = session.scalars(select(AuditCheckpoint.signed_note)).one()
    checkpoint = transparency.verify_checkpoint(
        note, origin=ORIGIN, log_public_key=sealing.signer.public_key
    )
    assert checkpoint.tree_size == 9
    assert verify(db, sealing, clock).leaves == 9


def test_checkpoints_follow_the_cadence_and_prove_consistency(
    db: Database, clock: SettableClock, sealing: Sealing
) -> None:
    write_events(db, clock, 2, [PRACTICE_A])
    first = sealing.run(db, clock).checkpoint
    write_events(db, clock, 2, [PRACTICE_A])
    assert sealing.run(db, clock).checkpoint is None  # less than a minute since the first
    assert sealing.run(db, clock, force=True).checkpoint is not None
    assert sealing.run(db, clock, force=True).checkpoint is None  # nothing new
    write_events(db, clock, 1, [PRACTICE_B])
    clock.advance(timedelta(minutes=1))
    report = sealing.run(db, clock)
    assert report.checkpoint is not None
    assert first is not None
    with db.read() as session:
        rows = session.scalars(select(AuditCheckpoint).order_by(AuditCheckpoint.tree_size)).all()
        for old in rows:
            for new in rows:
                if old.tree_size <= new.tree_size:
                    proof = checkpoints.consistency(
                        session, old_size=old.tree_size, new_size=new.tree_size
                    )
                    transparency.verify_consistency(
                        old_size=old.tree_size,
                        new_size=new.tree_size,
                        old_root=old.root_hash,
                        new_root=new.root_hash,
                        proof=proof,
                    )
    assert verify(db, sealing, clock).checkpoints == 3


def test_a_fresh_process_rebuilds_its_caches_from_the_rows(
    db: Database, clock: SettableClock, sealing: Sealing
) -> None:
    write_events(db, clock, 4, [PRACTICE_A])
    sealing.run(db, clock)
    sequencer._caches.clear()
    write_events(db, clock, 3, [PRACTICE_A])
    assert sealing.run(db, clock, force=True).integrated == 3
    assert verify(db, sealing, clock).leaves == 7


@pytest.mark.postgres
def test_concurrent_writers_and_sequencers(
    postgres_db: Database, clock: SettableClock, sealing: Sealing
) -> None:
    db = postgres_db
    written: list[object] = []
    lock = threading.Lock()

    def writer(practice: UUID | None) -> None:
        local = SettableClock(clock.now())
        ids = write_events(db, local, 40, [practice])
        with lock:
            written.extend(ids)

    stop = threading.Event()

    def run_sequencer() -> None:
        while not stop.is_set():
            sequencer.integrate(db, now=clock.now(), batch=7, limit=50)

    writers = [
        threading.Thread(target=writer, args=(practice,))
        for practice in (PRACTICE_A, PRACTICE_B, None, PRACTICE_A)
    ]
    sequencers = [threading.Thread(target=run_sequencer) for _ in range(2)]
    for thread in [*writers, *sequencers]:
        thread.start()
    for thread in writers:
        thread.join()
    stop.set()
    for thread in sequencers:
        thread.join()
    sealing.run(db, clock, force=True)
    logs = _leaves_by_log(db)
    integrated = [event for events in logs.values() for event in events]
    assert sorted(map(str, integrated)) == sorted(map(str, written))
    assert len(logs[PRACTICE_A]) == 80
    assert verify(db, sealing, clock).leaves == 160


def test_nothing_pending_and_a_stale_cache(
    db: Database, clock: SettableClock, sealing: Sealing
) -> None:
    assert sequencer.integrate(db, now=clock.now(), batch=5, limit=10).events == 0
    write_events(db, clock, 3, [PRACTICE_A])
    assert sequencer.integrate(db, now=clock.now(), batch=2, limit=2).events == 2  # the round
    sealing.run(db, clock)
    # This process's cache says something else than the rows (another database at this URL).
    for cache in sequencer._caches.values():
        cache.heads.hashes[-1] = bytes(32)
    write_events(db, clock, 1, [PRACTICE_A])
    assert sealing.run(db, clock, force=True).checkpoint is not None
    assert verify(db, sealing, clock).heads == 3
    with db.read() as session, pytest.raises(InvalidInput, match="not reached this size"):
        checkpoints.consistency(session, old_size=0, new_size=4)
    with db.read() as session, pytest.raises(InvalidInput, match="between 0 and the new size"):
        checkpoints.consistency(session, old_size=3, new_size=2)
