"""Tamper drills: each way of editing the audit rows behind the application is caught by
``verify``, which names the first inconsistency (log, index, event, what is wrong)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from uuid import UUID

import pytest
from sqlalchemy import delete, insert, select, text, update
from sqlalchemy.orm import Session

from colloque.audit import sequencer
from colloque.audit import verify as checks
from colloque.audit.models import (
    AuditCheckpoint,
    AuditEvent,
    AuditLogHead,
    AuditLogLeaf,
    AuditPending,
)
from colloque.audit.upkeep import Sealing
from colloque.audit.witnesses import AUDIT_LOG
from colloque.clock import SettableClock
from colloque.crypto import transparency
from colloque.storage.engine import Database
from tests.functional.audit.conftest import (
    ORIGIN,
    PRACTICE_A,
    PRACTICE_B,
    first_inconsistency,
    tampering,
    verify,
    write_events,
)

Drill = Callable[[Session, list[UUID]], None]


class _Signer:
    """The sealing's signer, for the drills that hold the key."""

    public_key: bytes
    sign: Callable[[bytes], bytes]


SIGNER = _Signer()


def _sealed(db: Database, clock: SettableClock, sealing: Sealing) -> list[UUID]:
    """Nine events in three logs, integrated, checkpointed and exported; then two more pending."""
    ids = write_events(db, clock, 9, [PRACTICE_A, None, PRACTICE_B])
    sealing.run(db, clock)
    assert verify(db, sealing, clock).leaves == 9
    return ids


def _modify(session: Session, ids: list[UUID]) -> None:
    session.execute(
        update(AuditEvent).where(AuditEvent.event_id == ids[3]).values(action="nothing:seen")
    )


def _delete_event(session: Session, ids: list[UUID]) -> None:
    session.execute(delete(AuditEvent).where(AuditEvent.event_id == ids[3]))


def _delete_event_and_leaf(session: Session, ids: list[UUID]) -> None:
    session.execute(delete(AuditEvent).where(AuditEvent.event_id == ids[3]))
    session.execute(delete(AuditLogLeaf).where(AuditLogLeaf.event_id == ids[3]))


def _delete_last_of_a_log(session: Session, ids: list[UUID]) -> None:
    session.execute(delete(AuditEvent).where(AuditEvent.event_id == ids[6]))
    session.execute(delete(AuditLogLeaf).where(AuditLogLeaf.event_id == ids[6]))


def _insert_backdated_event(session: Session, ids: list[UUID]) -> None:
    row = session.execute(select(AuditEvent).where(AuditEvent.event_id == ids[0])).scalar_one()
    values = {c.name: getattr(row, c.key) for c in AuditEvent.__table__.columns}
    session.execute(
        insert(AuditEvent).values(
            {**values, "event_id": UUID(int=99), "at": row.at - timedelta(days=3)}
        )
    )


def _append_a_leaf(session: Session, ids: list[UUID]) -> None:
    # A pending event of practice A, put in its log with its right hash, but without a head.
    session.execute(
        insert(AuditLogLeaf).values(
            log_id=PRACTICE_A,
            leaf_index=3,
            event_id=ids[9],
            leaf_hash=_leaf_hash_of(session, ids[9]),
        )
    )


def _reorder(session: Session, ids: list[UUID]) -> None:
    # ids[0] and ids[3] are leaves 0 and 1 of practice A's log: swap their places.
    for event_id, index in ((ids[0], 100), (ids[3], 0), (ids[0], 1)):
        session.execute(
            update(AuditLogLeaf).where(AuditLogLeaf.event_id == event_id).values(leaf_index=index)
        )


def _move_to_another_log(session: Session, ids: list[UUID]) -> None:
    session.execute(
        update(AuditEvent).where(AuditEvent.event_id == ids[6]).values(practice_id=PRACTICE_B)
    )
    session.execute(
        update(AuditLogLeaf)
        .where(AuditLogLeaf.event_id == ids[6])
        .values(leaf_hash=_leaf_hash_of(session, ids[6]))
    )


def _leaf_hash_of(session: Session, event_id: UUID) -> bytes:
    from colloque.audit.leaf import EVENT_COLUMNS, EventFields, event_leaf

    row = session.execute(
        select(*[getattr(AuditEvent, c) for c in EVENT_COLUMNS]).where(
            AuditEvent.event_id == event_id
        )
    ).one()
    return transparency.leaf_hash(event_leaf(EventFields(*row)))


def _delete_a_head(session: Session, _ids: list[UUID]) -> None:
    session.execute(delete(AuditLogHead).where(AuditLogHead.head_index == 4))


def _delete_a_log(session: Session, _ids: list[UUID]) -> None:
    session.execute(delete(AuditLogLeaf).where(AuditLogLeaf.log_id == PRACTICE_A))


def _delete_the_last_log(session: Session, _ids: list[UUID]) -> None:
    session.execute(delete(AuditLogLeaf).where(AuditLogLeaf.log_id == PRACTICE_B))


def _truncate_heads(session: Session, ids: list[UUID]) -> None:
    session.execute(delete(AuditEvent).where(AuditEvent.event_id.in_(ids[6:9])))
    session.execute(delete(AuditLogLeaf).where(AuditLogLeaf.event_id.in_(ids[6:9])))
    session.execute(delete(AuditLogHead).where(AuditLogHead.head_index >= 6))


def _forge_checkpoint(session: Session, _ids: list[UUID]) -> None:
    root = session.scalars(select(AuditCheckpoint.root_hash)).one()
    forged = transparency.sign_checkpoint(
        transparency.Checkpoint(ORIGIN, 9, root), log_signing_seed=b"\x07" * 32
    )
    session.execute(update(AuditCheckpoint).values(signed_note=forged))


def _checkpoint_of_another_size(session: Session, _ids: list[UUID]) -> None:
    # A note the key really signed, but for another tree: replayed onto this row.
    root = session.scalars(select(AuditCheckpoint.root_hash)).one()
    other = transparency.signed_note(
        transparency.Checkpoint(ORIGIN, 8, root), public_key=SIGNER.public_key, sign=SIGNER.sign
    )
    session.execute(update(AuditCheckpoint).values(signed_note=other))


def _rewrite_checkpoint_root(session: Session, _ids: list[UUID]) -> None:
    session.execute(update(AuditCheckpoint).values(root_hash=b"\x01" * 32))


def _lose_a_pending_event(session: Session, _ids: list[UUID]) -> None:
    pending = session.scalars(
        select(AuditPending.event_id).order_by(AuditPending.queued_at, AuditPending.event_id)
    ).first()
    session.execute(delete(AuditEvent).where(AuditEvent.event_id == pending))


def _queue_twice(session: Session, ids: list[UUID]) -> None:
    session.execute(
        insert(AuditPending).values(event_id=ids[0], log_id=PRACTICE_A, queued_at=_at(session))
    )


def _at(session: Session) -> object:
    return session.scalars(select(AuditEvent.at).order_by(AuditEvent.at.desc())).first()


@pytest.mark.parametrize(
    ("drill", "expected"),
    [
        (
            _modify,
            "log of practice aaaaaaaa-0000-4000-8000-000000000001, index 1, event {3}: "
            "the event differs from its leaf",
        ),
        (_delete_event, "index 1, event {3}: the leaf's event is missing"),
        (_delete_event_and_leaf, "index 1: a leaf is missing"),
        (_delete_last_of_a_log, "a head of size 3 but 2 leaves (leaves removed)"),
        (_insert_backdated_event, "events, event 00000000-0000-0000-0000-000000000063: in no log"),
        (
            _append_a_leaf,
            "log of practice aaaaaaaa-0000-4000-8000-000000000001, index 3: leaves "
            "after the last head (inserted)",
        ),
        (_reorder, "the head of size 1 has another root than the leaves"),
        (_move_to_another_log, "event {6}: the event belongs to another log"),
        (_delete_a_head, "log of heads, index 4: a head is missing"),
        (
            _delete_a_log,
            "log of practice aaaaaaaa-0000-4000-8000-000000000001: a head of size 1 "
            "but no leaves at all",
        ),
        (
            _delete_the_last_log,
            "log of practice bbbbbbbb-0000-4000-8000-000000000002: a head of "
            "size 1 but no such leaves",
        ),
        (_truncate_heads, "the checkpoint of size 9 is beyond the 6 heads"),
        (_forge_checkpoint, "checkpoint of size 9: the signed note does not verify"),
        (_checkpoint_of_another_size, "checkpoint of size 9: the signed note is for another"),
        (_rewrite_checkpoint_root, "checkpoint of size 9: its root is not"),
        (_lose_a_pending_event, "pending events, event {9}: the event is missing"),
        (_queue_twice, "pending events, event {0}: already in a log"),
    ],
    ids=lambda value: getattr(value, "__name__", "_")[1:] or "message",
)
def test_tampering_is_named(
    db: Database, clock: SettableClock, sealing: Sealing, drill: Drill, expected: str
) -> None:
    SIGNER.public_key, SIGNER.sign = sealing.signer.public_key, sealing.signer.sign
    ids = _sealed(db, clock, sealing)
    ids += write_events(db, clock, 2, [PRACTICE_A])  # pending, not yet integrated
    with tampering(db) as session:
        drill(session, ids)
    message = first_inconsistency(db, sealing, clock)
    assert expected.format(*ids) in message


def test_a_rolled_back_log_is_caught_by_the_exported_checkpoint(
    db: Database, clock: SettableClock, sealing: Sealing
) -> None:
    ids = _sealed(db, clock, sealing)
    # The whole tail, consistently: events, leaves, heads and the checkpoint that covered them.
    with tampering(db) as session:
        session.execute(delete(AuditEvent).where(AuditEvent.event_id.in_(ids[6:])))
        session.execute(delete(AuditLogLeaf).where(AuditLogLeaf.event_id.in_(ids[6:])))
        session.execute(delete(AuditLogHead).where(AuditLogHead.head_index >= 6))
        session.execute(delete(AuditCheckpoint))
    message = first_inconsistency(db, sealing, clock)
    assert "file witness (audit), line 1: rolled back: a checkpoint of size 9" in message
    assert "the log of heads has 6" in message


def test_a_rewritten_history_forks_from_the_exported_checkpoint(
    db: Database, clock: SettableClock, sealing: Sealing
) -> None:
    """Even with the signing key, a rewrite cannot match what was exported before it."""
    ids = _sealed(db, clock, sealing)
    with tampering(db) as session:
        session.execute(
            update(AuditEvent).where(AuditEvent.event_id == ids[3]).values(action="nothing:seen")
        )
        for table in (AuditLogLeaf, AuditLogHead, AuditCheckpoint):
            session.execute(delete(table))
        session.execute(
            insert(AuditPending),
            [
                {"event_id": e, "log_id": log, "queued_at": at}
                for e, log, at in session.execute(
                    select(AuditEvent.event_id, AuditEvent.practice_id, AuditEvent.at)
                ).all()
                for log in [log or UUID(int=0)]
            ],
        )
    sequencer._caches.clear()
    sealing.run(db, clock, force=True)
    message = first_inconsistency(db, sealing, clock)
    assert "file witness (audit), line 1: forked: the exported checkpoint of size 9" in message


def test_a_forged_export_and_an_unreadable_one(
    db: Database, clock: SettableClock, sealing: Sealing, tmp_path: Path
) -> None:
    _sealed(db, clock, sealing)
    assert sealing.file_witness is not None
    path = sealing.file_witness.path(AUDIT_LOG)
    original = path.read_text()
    forged = transparency.sign_checkpoint(
        transparency.Checkpoint(ORIGIN, 9, b"\x02" * 32), log_signing_seed=b"\x07" * 32
    )
    sealing.file_witness.append(AUDIT_LOG, tree_size=9, note=forged)
    assert "line 2: the exported note does not verify" in first_inconsistency(db, sealing, clock)
    path.write_text(original.replace('"size":9', '"size":8'))
    assert "line 1: the record's size is not its note's" in first_inconsistency(db, sealing, clock)
    path.write_text(original + "not json\n")
    assert "line 2 is not a checkpoint record" in first_inconsistency(db, sealing, clock)


def test_the_sequencer_will_not_extend_a_broken_log(
    db: Database, clock: SettableClock, sealing: Sealing
) -> None:
    ids = _sealed(db, clock, sealing)
    with tampering(db) as session:
        session.execute(delete(AuditLogLeaf).where(AuditLogLeaf.event_id == ids[0]))
    sequencer._caches.clear()
    write_events(db, clock, 1, [PRACTICE_A])
    with pytest.raises(sequencer.AuditLogBroken, match="do not match the latest head"):
        sealing.run(db, clock)
    with tampering(db) as session:
        session.execute(delete(AuditLogHead).where(AuditLogHead.head_index == 2))
    with pytest.raises(sequencer.AuditLogBroken, match="the log of heads has a gap"):
        sealing.run(db, clock)


def test_the_triggers_refuse_changes(db: Database, clock: SettableClock, sealing: Sealing) -> None:
    _sealed(db, clock, sealing)
    for table in ("audit_log_leaves", "audit_log_heads", "audit_checkpoints"):
        for statement in (f"DELETE FROM {table}", f"UPDATE {table} SET tree_size = tree_size"):
            if table == "audit_log_leaves":
                statement = statement.replace("tree_size", "leaf_index")
            with pytest.raises(Exception, match="append-only"), db.write() as session:
                session.execute(text(statement))


def test_an_empty_log_verifies_and_progress_is_reported(
    db: Database, clock: SettableClock, sealing: Sealing, monkeypatch: pytest.MonkeyPatch
) -> None:
    report = checks.verify(
        db,
        expected=checks.Expected(ORIGIN, sealing.signer.public_key),
        now=clock.now(),
        bound=timedelta(hours=1),
    )
    assert (report.logs, report.leaves, report.heads, report.exported) == (0, 0, 0, 0)
    write_events(db, clock, 5, [PRACTICE_A])
    sealing.run(db, clock)
    monkeypatch.setattr(checks, "_STREAM", 2)
    seen: list[int] = []
    checks.verify(
        db,
        expected=checks.Expected(ORIGIN, sealing.signer.public_key),
        now=clock.now(),
        bound=timedelta(hours=1),
        progress=seen.append,
    )
    assert sum(seen) == checks.work(db) == 5 + 2


def test_the_sequencer_goes_on_past_a_queued_duplicate(
    db: Database, clock: SettableClock, sealing: Sealing
) -> None:
    ids = _sealed(db, clock, sealing)
    with db.write() as session:
        _queue_twice(session, ids)
    write_events(db, clock, 1, [PRACTICE_A])
    assert sealing.run(db, clock).integrated == 1
    assert "already in a log" in first_inconsistency(db, sealing, clock)
