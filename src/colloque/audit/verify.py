"""``colloque audit verify``: recompute the audit logs from the rows and name the first thing wrong.

In order: every log's leaves (each recomputed from its event's row, in index order without gaps)
and every head of that log (its root at that size); the log of heads and every checkpoint (its
root at its size, its signature); the checkpoints exported to the file witness (each must be a
root the log of heads had: a larger size is a rollback, another root a fork or a rewrite); then
events in no log and not pending although older than the integration bound, pending rows whose
event is gone, and pending rows of events already in a log.

Every checkpoint is matched against the root of the same sequence of heads at its size, which
is stronger than checking consistency proofs between consecutive ones. Rows are streamed (a
server-side cursor on PostgreSQL) in one snapshot, so memory stays flat however long the log.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NoReturn
from uuid import UUID

from sqlalchemy import Connection, func, select

from colloque.audit.leaf import EVENT_COLUMNS, EventFields, HeadFields, event_leaf, head_leaf
from colloque.audit.models import (
    GLOBAL_LOG,
    AuditCheckpoint,
    AuditEvent,
    AuditLogHead,
    AuditLogLeaf,
    AuditPending,
)
from colloque.audit.witnesses import AUDIT_LOG, ExportUnreadable, FileWitness
from colloque.crypto import transparency
from colloque.crypto.errors import ProofInvalid
from colloque.storage.engine import Database

_STREAM = 10_000
_cursor_numbers = itertools.count()
#: A streamed row of any shape: a SQLAlchemy row, or psycopg's plain tuple.
_Row = Sequence[Any]
Progress = Callable[[int], None]


@dataclass(frozen=True)
class Inconsistency:
    """What is wrong, and where: which log (or table, or exported file), index, event."""

    where: str
    problem: str
    index: int | None = None
    event_id: UUID | None = None

    def __str__(self) -> str:
        place = self.where
        if self.index is not None:
            place += f", index {self.index}"
        if self.event_id is not None:
            place += f", event {self.event_id}"
        return f"{place}: {self.problem}"


class VerificationFailed(Exception):
    def __init__(self, inconsistency: Inconsistency) -> None:
        super().__init__(str(inconsistency))
        self.inconsistency = inconsistency


@dataclass(frozen=True)
class VerifyReport:
    logs: int
    leaves: int
    heads: int
    checkpoints: int
    exported: int


def log_name(log_id: UUID) -> str:
    return "global log" if log_id == GLOBAL_LOG else f"log of practice {log_id}"


def _fail(
    where: str, problem: str, *, index: int | None = None, event: UUID | None = None
) -> NoReturn:
    raise VerificationFailed(Inconsistency(where, problem, index, event))


def _stream(connection: Connection, statement: Any, cleanup: ExitStack) -> Iterator[_Row]:
    """The rows of ``statement``, fetched ``_STREAM`` at a time; the cursor is closed by
    ``cleanup`` even when a check stops the walk half-way.

    On PostgreSQL the rows come from a server-side cursor in psycopg's binary format as plain
    tuples: SQLAlchemy's row processing was most of a verification's time, and psycopg already
    gives the types the leaf encoding needs (UUID, aware datetime, bytes, str). Same
    transaction, so the same snapshot.
    """
    if connection.dialect.name == "postgresql":
        yield from _stream_binary(connection, statement, cleanup)
        return
    result = connection.execution_options(yield_per=_STREAM).execute(statement)
    cleanup.callback(result.close)
    for partition in result.partitions():
        yield from partition


def _stream_binary(connection: Connection, statement: Any, cleanup: ExitStack) -> Iterator[_Row]:
    compiled = statement.compile(dialect=connection.dialect)
    driver = connection.connection.driver_connection
    assert driver is not None
    cursor = driver.cursor(name=f"verify_{next(_cursor_numbers)}", binary=True)
    cleanup.callback(cursor.close)
    cursor.itersize = _STREAM
    cursor.execute(str(compiled), compiled.params)
    while rows := cursor.fetchmany(_STREAM):
        yield from rows


class _Peek:
    """An iterator one can look one row ahead in."""

    def __init__(self, rows: Iterator[_Row]) -> None:
        self._rows = rows
        self.next: _Row | None = next(rows, None)

    def take(self) -> _Row:
        row = self.next
        assert row is not None
        self.next = next(self._rows, None)
        return row


@dataclass
class _LogWalk:
    log_id: UUID
    where: str
    size: int = 0
    compact: list[tuple[int, bytes]] | None = None
    last_head: int = 0


def _verify_logs(connection: Connection, progress: Progress, cleanup: ExitStack) -> tuple[int, int]:
    event_columns = [getattr(AuditEvent, name) for name in EVENT_COLUMNS]
    leaves = _stream(
        connection,
        select(AuditLogLeaf.log_id, AuditLogLeaf.leaf_index, AuditLogLeaf.leaf_hash, *event_columns)
        .outerjoin(AuditEvent, AuditEvent.event_id == AuditLogLeaf.event_id)
        .add_columns(AuditLogLeaf.event_id)
        .order_by(AuditLogLeaf.log_id, AuditLogLeaf.leaf_index),
        cleanup,
    )
    heads = _Peek(
        _stream(
            connection,
            select(AuditLogHead.log_id, AuditLogHead.tree_size, AuditLogHead.root_hash).order_by(
                AuditLogHead.log_id, AuditLogHead.tree_size
            ),
            cleanup,
        )
    )
    walk: _LogWalk | None = None
    logs = count = 0
    for row in leaves:
        log_id, index, stored_hash = row[0], row[1], row[2]
        if walk is None or walk.log_id != log_id:
            if walk is not None:
                _finish_log(walk, heads)
            _orphan_heads_before(log_id, heads)
            walk = _LogWalk(log_id, log_name(log_id), compact=[])
            logs += 1
        where = walk.where
        leaf_event = row[-1]
        if index != walk.size:
            _fail(where, "a leaf is missing (rows deleted or moved)", index=walk.size)
        if row[3] is None:
            _fail(where, "the leaf's event is missing", index=index, event=leaf_event)
        event = EventFields(*row[3:-1])
        if transparency.leaf_hash(event_leaf(event)) != stored_hash:
            _fail(where, "the event differs from its leaf", index=index, event=leaf_event)
        if (event.practice_id or GLOBAL_LOG) != log_id:
            _fail(where, "the event belongs to another log", index=index, event=leaf_event)
        assert walk.compact is not None
        walk.compact = transparency.compact_range_append(walk.compact, stored_hash)
        walk.size += 1
        while heads.next is not None and heads.next[0] == log_id and heads.next[1] == walk.size:
            head = heads.take()
            if head[2] != transparency.compact_range_root(walk.compact):
                _fail(where, f"the head of size {walk.size} has another root than the leaves")
            walk.last_head = walk.size
        count += 1
        if count % _STREAM == 0:
            progress(_STREAM)
    if walk is not None:
        _finish_log(walk, heads)
    if heads.next is not None:
        _fail(log_name(heads.next[0]), f"a head of size {heads.next[1]} but no such leaves")
    progress(count % _STREAM)
    return logs, count


def _orphan_heads_before(log_id: UUID, heads: _Peek) -> None:
    if heads.next is not None and heads.next[0] < log_id:
        _fail(log_name(heads.next[0]), f"a head of size {heads.next[1]} but no leaves at all")


def _finish_log(walk: _LogWalk, heads: _Peek) -> None:
    where = log_name(walk.log_id)
    if heads.next is not None and heads.next[0] == walk.log_id:
        _fail(where, f"a head of size {heads.next[1]} but {walk.size} leaves (leaves removed)")
    if walk.last_head != walk.size:
        _fail(where, "leaves after the last head (inserted)", index=walk.last_head)


@dataclass(frozen=True)
class Expected:
    """What the checkpoints must carry: the log's origin and public key."""

    origin: str
    public_key: bytes


def _verify_heads(
    connection: Connection,
    expected: Expected,
    exported: dict[int, list[tuple[int, str]]],
    progress: Progress,
    cleanup: ExitStack,
) -> tuple[int, int, int]:
    heads = _stream(
        connection,
        select(
            AuditLogHead.head_index,
            AuditLogHead.log_id,
            AuditLogHead.tree_size,
            AuditLogHead.root_hash,
            AuditLogHead.at,
        ).order_by(AuditLogHead.head_index),
        cleanup,
    )
    signed = _Peek(
        _stream(
            connection,
            select(
                AuditCheckpoint.tree_size, AuditCheckpoint.root_hash, AuditCheckpoint.signed_note
            ).order_by(AuditCheckpoint.tree_size),
            cleanup,
        )
    )
    compact: list[tuple[int, bytes]] = []
    size = checked = matched = 0
    for row in heads:
        if row[0] != size:
            _fail("log of heads", "a head is missing (rows deleted or moved)", index=size)
        head = HeadFields(*row[1:])
        compact = transparency.compact_range_append(
            compact, transparency.leaf_hash(head_leaf(head))
        )
        size += 1
        root = transparency.compact_range_root(compact)
        while signed.next is not None and signed.next[0] == size:
            _check_checkpoint(signed.take(), root, expected)
            checked += 1
        for line, note in exported.pop(size, []):
            _check_exported(line, size, note, root, expected)
            matched += 1
        if size % _STREAM == 0:
            progress(_STREAM)
    progress(size % _STREAM)
    if signed.next is not None:
        _fail(
            "checkpoints",
            f"the checkpoint of size {signed.next[0]} is beyond the {size} heads (heads removed)",
        )
    if exported:
        exported_size, notes = min(exported.items())
        _fail(
            f"file witness ({AUDIT_LOG}), line {notes[0][0]}",
            f"rolled back: a checkpoint of size {exported_size} was exported, the log of heads "
            f"has {size}",
        )
    return size, checked, matched


def _check_checkpoint(row: _Row, root: bytes, expected: Expected) -> None:
    size, stored_root, note = row
    where = f"checkpoint of size {size}"
    if stored_root != root:
        _fail(where, "its root is not the log of heads' root at that size")
    try:
        checkpoint = transparency.verify_checkpoint(
            note, origin=expected.origin, log_public_key=expected.public_key
        )
    except ProofInvalid as error:
        _fail(where, f"the signed note does not verify ({error})")
    if checkpoint.tree_size != size or checkpoint.root_hash != root:
        _fail(where, "the signed note is for another size or root")


def _check_exported(line: int, size: int, note: str, root: bytes, expected: Expected) -> None:
    where = f"file witness ({AUDIT_LOG}), line {line}"
    try:
        checkpoint = transparency.verify_checkpoint(
            note, origin=expected.origin, log_public_key=expected.public_key
        )
    except ProofInvalid as error:
        _fail(where, f"the exported note does not verify ({error})")
    if checkpoint.tree_size != size:
        _fail(where, "the record's size is not its note's")
    if checkpoint.root_hash != root:
        _fail(
            where,
            f"forked: the exported checkpoint of size {size} has another root than the log "
            "of heads at that size (the log was rewritten)",
        )


def _exported(witness: FileWitness | None) -> dict[int, list[tuple[int, str]]]:
    by_size: dict[int, list[tuple[int, str]]] = {}
    if witness is None:
        return by_size
    try:
        for record in witness.read(AUDIT_LOG):
            by_size.setdefault(record.tree_size, []).append((record.line, record.note))
    except ExportUnreadable as error:
        _fail(f"file witness ({AUDIT_LOG})", str(error))
    return by_size


def _verify_queue(connection: Connection, *, now: datetime, bound: timedelta) -> None:
    lost = connection.execute(
        select(AuditEvent.event_id)
        .outerjoin(AuditLogLeaf, AuditLogLeaf.event_id == AuditEvent.event_id)
        .outerjoin(AuditPending, AuditPending.event_id == AuditEvent.event_id)
        .where(
            AuditLogLeaf.event_id.is_(None),
            AuditPending.event_id.is_(None),
            AuditEvent.at < now - bound,
        )
        .order_by(AuditEvent.at, AuditEvent.event_id)
        .limit(1)
    ).first()
    if lost is not None:
        _fail("events", "in no log and not pending (inserted behind the log)", event=lost[0])
    gone = connection.execute(
        select(AuditPending.event_id)
        .outerjoin(AuditEvent, AuditEvent.event_id == AuditPending.event_id)
        .where(AuditEvent.event_id.is_(None))
        .order_by(AuditPending.queued_at, AuditPending.event_id)
        .limit(1)
    ).first()
    if gone is not None:
        _fail("pending events", "the event is missing (deleted before integration)", event=gone[0])
    twice = connection.execute(
        select(AuditPending.event_id)
        .join(AuditLogLeaf, AuditLogLeaf.event_id == AuditPending.event_id)
        .limit(1)
    ).first()
    if twice is not None:
        _fail("pending events", "already in a log", event=twice[0])


def work(database: Database) -> int:
    """How many rows :func:`verify` walks, for a progress bar's total."""
    with database.read() as session:
        leaves = session.scalar(select(func.count()).select_from(AuditLogLeaf)) or 0
        heads = session.scalar(select(func.count()).select_from(AuditLogHead)) or 0
    return leaves + heads


def verify(
    database: Database,
    *,
    expected: Expected,
    now: datetime,
    bound: timedelta,
    witness: FileWitness | None = None,
    progress: Progress = lambda _rows: None,
) -> VerifyReport:
    """Check everything; raise :class:`VerificationFailed` naming the first inconsistency."""
    exported = _exported(witness)
    exported_count = sum(len(notes) for notes in exported.values())
    with database.reader_engine.connect() as connection:
        if database.is_postgres:
            # One snapshot for every query: the sequencer may run meanwhile.
            connection = connection.execution_options(isolation_level="REPEATABLE READ")
        with connection.begin(), ExitStack() as cleanup:
            logs, leaves = _verify_logs(connection, progress, cleanup)
            heads, checkpoints, _matched = _verify_heads(
                connection, expected, exported, progress, cleanup
            )
            _verify_queue(connection, now=now, bound=bound)
    return VerifyReport(logs, leaves, heads, checkpoints, exported_count)
