"""The sequencer: integrates committed events into their Merkle logs, in short transactions.

Writers only insert into ``audit_pending`` (``services.record``), so they never wait on a chain
head. The sequencer, one at a time (a transaction-scoped advisory lock on PostgreSQL; SQLite
serialises writers anyway), takes a bounded batch of committed pending events in (queued_at,
event_id) order, appends each event's leaf to its log (its practice's, or the global one), appends
each grown log's new head to the log of heads, and deletes the pending rows, all in one
transaction. An event in the window between its commit and its integration is visible in
``audit_pending``; ``colloque audit status`` shows how old the oldest one is.

Each process keeps the compact range of every log it has extended and the leaf hashes of the log
of heads (:class:`_Cache`), checked against the stored heads before each use, so integrating k
events costs O(k log n) hashes, not a rehash of the log (docs/audit.md, "Sequencer").
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from sqlalchemy import delete, func, insert, select, text
from sqlalchemy.orm import Session

from colloque.audit.leaf import EVENT_COLUMNS, EventFields, HeadFields, event_leaf, head_leaf
from colloque.audit.models import AuditEvent, AuditLogHead, AuditLogLeaf, AuditPending
from colloque.crypto import transparency
from colloque.storage.engine import Database

#: Any fixed 64-bit number: the advisory lock that makes one sequencer run at a time.
_SEQUENCER_LOCK = 0x436C6F4175646974
Compact = list[tuple[int, bytes]]


class AuditLogBroken(Exception):
    """The stored log does not match its own heads: the sequencer will not extend it (``colloque
    audit verify`` names what is wrong)."""


@dataclass
class _Tree:
    size: int = 0
    compact: Compact = field(default_factory=list)


@dataclass
class _Heads:
    hashes: list[bytes] = field(default_factory=list)
    compact: Compact = field(default_factory=list)


@dataclass
class _Cache:
    logs: dict[UUID, _Tree] = field(default_factory=dict)
    heads: _Heads = field(default_factory=_Heads)


_caches: dict[str, _Cache] = {}
_caches_lock = threading.Lock()


def _cache_for(session: Session) -> _Cache:
    key = session.get_bind().engine.url.render_as_string(hide_password=True)
    with _caches_lock:
        return _caches.setdefault(key, _Cache())


def lock(session: Session) -> None:
    """Wait for the other sequencers' transactions (PostgreSQL; SQLite writers are serial)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _SEQUENCER_LOCK})


def _compact_of(hashes: Sequence[bytes], compact: Compact | None = None) -> Compact:
    result = list(compact or [])
    for leaf_hash in hashes:
        result = transparency.compact_range_append(result, leaf_hash)
    return result


def log_tree(session: Session, log_id: UUID) -> _Tree:
    """The log's size and compact range as of its latest head (from the cache when it agrees)."""
    latest = session.execute(
        select(AuditLogHead.tree_size, AuditLogHead.root_hash)
        .where(AuditLogHead.log_id == log_id)
        .order_by(AuditLogHead.tree_size.desc())
        .limit(1)
    ).first()
    if latest is None:
        return _Tree()
    size, root = latest
    cached = _cache_for(session).logs.get(log_id)
    if (
        cached is not None
        and cached.size == size
        and transparency.compact_range_root(cached.compact) == root
    ):
        return _Tree(size, list(cached.compact))
    hashes = session.scalars(
        select(AuditLogLeaf.leaf_hash)
        .where(AuditLogLeaf.log_id == log_id, AuditLogLeaf.leaf_index < size)
        .order_by(AuditLogLeaf.leaf_index)
    ).all()
    compact = _compact_of(hashes)
    if len(hashes) != size or transparency.compact_range_root(compact) != root:
        raise AuditLogBroken(f"log {log_id}: the leaves do not match the latest head")
    return _Tree(size, compact)


def heads_tree(session: Session) -> _Heads:
    """Every leaf hash of the log of heads, and their compact range (cached per process)."""
    size = session.scalar(select(func.count()).select_from(AuditLogHead)) or 0
    cached = _cache_for(session).heads
    known = len(cached.hashes)
    # Rows never change, and each head's hash commits to its predecessors' place, so one known
    # hash tells whether this is still the same log (a test database emptied and refilled is not).
    if 0 < known <= size:
        last = session.get(AuditLogHead, known - 1)
        if last is not None and head_leaf_hash(last) == cached.hashes[-1]:
            fresh = _head_hashes(session, known, size)
            return _Heads([*cached.hashes, *fresh], _compact_of(fresh, cached.compact))
    hashes = _head_hashes(session, 0, size)
    return _Heads(hashes, _compact_of(hashes))


def _head_hashes(session: Session, start: int, end: int) -> list[bytes]:
    rows = session.scalars(
        select(AuditLogHead)
        .where(AuditLogHead.head_index >= start, AuditLogHead.head_index < end)
        .order_by(AuditLogHead.head_index)
    ).all()
    if [row.head_index for row in rows] != list(range(start, end)):
        raise AuditLogBroken("the log of heads has a gap")
    return [head_leaf_hash(row) for row in rows]


def head_leaf_hash(head: AuditLogHead) -> bytes:
    return transparency.leaf_hash(
        head_leaf(HeadFields(head.log_id, head.tree_size, head.root_hash, head.at))
    )


def publish(session: Session, *, logs: dict[UUID, _Tree], heads: _Heads) -> None:
    """Remember what a committed transaction stored, for the next one in this process."""
    cache = _cache_for(session)
    with _caches_lock:
        cache.logs.update(logs)
        cache.heads = heads


@dataclass(frozen=True)
class IntegrationReport:
    events: int
    logs_grown: int


def _integrate_batch(
    session: Session, *, now: datetime, batch: int
) -> tuple[int, dict[UUID, _Tree], _Heads]:
    lock(session)
    columns = [getattr(AuditEvent, name) for name in EVENT_COLUMNS]
    rows = session.execute(
        select(AuditPending.log_id, *columns)
        .join(AuditEvent, AuditEvent.event_id == AuditPending.event_id)
        # A pending row for an event already in a log (inserted behind the sequencer) is left
        # for verify to name; integrating it again would stop the sequencer on a duplicate.
        .outerjoin(AuditLogLeaf, AuditLogLeaf.event_id == AuditPending.event_id)
        .where(AuditLogLeaf.event_id.is_(None))
        .order_by(AuditPending.queued_at, AuditPending.event_id)
        .limit(batch)
    ).all()
    by_log: dict[UUID, list[EventFields]] = {}
    for row in rows:
        by_log.setdefault(row[0], []).append(EventFields(*row[1:]))
    heads = heads_tree(session) if by_log else _Heads()
    grown: dict[UUID, _Tree] = {}
    leaves: list[dict[str, object]] = []
    new_heads: list[dict[str, object]] = []
    for log_id, events in by_log.items():
        tree = log_tree(session, log_id)
        for event in events:
            leaf_hash = transparency.leaf_hash(event_leaf(event))
            leaves.append(
                {
                    "log_id": log_id,
                    "leaf_index": tree.size,
                    "event_id": event.event_id,
                    "leaf_hash": leaf_hash,
                }
            )
            tree = _Tree(tree.size + 1, transparency.compact_range_append(tree.compact, leaf_hash))
        grown[log_id] = tree
        head = HeadFields(log_id, tree.size, transparency.compact_range_root(tree.compact), now)
        head_hash = transparency.leaf_hash(head_leaf(head))
        new_heads.append({"head_index": len(heads.hashes), **head._asdict()})
        heads.hashes.append(head_hash)  # a fresh list from heads_tree: the cache is untouched
        heads.compact = transparency.compact_range_append(heads.compact, head_hash)
    if leaves:
        session.execute(insert(AuditLogLeaf), leaves)
        session.execute(insert(AuditLogHead), new_heads)
        session.execute(
            delete(AuditPending).where(
                AuditPending.event_id.in_([leaf["event_id"] for leaf in leaves])
            )
        )
    return len(leaves), grown, heads


def integrate(database: Database, *, now: datetime, batch: int, limit: int) -> IntegrationReport:
    """Integrate pending events, ``batch`` per transaction, until none is left or ``limit`` were
    integrated (the next round goes on)."""
    events = 0
    logs: set[UUID] = set()
    while events < limit:
        with database.write() as session:
            count, grown, heads = _integrate_batch(
                session, now=now, batch=min(batch, limit - events)
            )
        if count:
            publish(session, logs=grown, heads=heads)
        events += count
        logs.update(grown)
        if count < batch:
            break
    return IntegrationReport(events, len(logs))
