"""The key directory on the server: append bindings, sign checkpoints, hand out proofs.

The log is append-only (a PostgreSQL trigger refuses UPDATE and DELETE on both tables). Appends
are serialised: a transaction-scoped advisory lock on PostgreSQL; on SQLite writers already are
(``BEGIN IMMEDIATE``). Each append stores a signed checkpoint for the new tree size in the
caller's transaction, so a binding and the checkpoint that commits to it appear together.

Leaf hashes are kept per process (:class:`_LeafCache`), with the compact range of the cached tree:
an append reads only the leaves it has not seen and hashes O(log n) nodes. Proofs are computed from
the cached leaf hashes (docs/crypto.md, section 5.5).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from sqlalchemy import and_, func, select, text, tuple_
from sqlalchemy.orm import Session

from colloque.crypto import transparency
from colloque.crypto.statements import (
    ENDORSEMENT_TYPE,
    GROUP_EPOCH_TYPE,
    MEMBERSHIP_TYPE,
    GroupEpochStatement,
    KeyEndorsement,
    MembershipStatement,
)
from colloque.crypto.transparency import Checkpoint, KeyBinding, KeyPurpose, SubjectKind
from colloque.errors import Conflict, InvalidInput
from colloque.keydirectory.config import CosignedLogKey
from colloque.keydirectory.interfaces import LogSigner
from colloque.keydirectory.models import (
    KeyDirectoryCheckpoint,
    KeyDirectoryCosignature,
    KeyDirectoryLeaf,
)

#: Any fixed 64-bit number: the advisory lock that serialises appends on PostgreSQL.
_APPEND_LOCK = 0x436C6F4B65794C67
_Compact = list[tuple[int, bytes]]


class _LeafCache:
    """The leaf hashes of one database's log, in order, as far as this process has read them."""

    def __init__(self) -> None:
        self.hashes: list[bytes] = []
        self.compact: _Compact = []


_caches: dict[str, _LeafCache] = {}
_caches_lock = threading.Lock()


def _cache_for(session: Session) -> _LeafCache:
    key = session.get_bind().engine.url.render_as_string(hide_password=True)
    with _caches_lock:
        return _caches.setdefault(key, _LeafCache())


def _load(session: Session, size: int) -> tuple[list[bytes], _Compact]:
    """The first ``size`` leaf hashes and their compact range, reading only what is not cached."""
    cache = _cache_for(session)
    with _caches_lock:
        hashes, compact = cache.hashes, cache.compact
    known = min(len(hashes), size)
    if known:
        # Rows never change, and each leaf hash commits to a distinct binding, so one known hash
        # tells whether this is still the same log (a test database emptied and refilled is not).
        stored = session.scalar(
            select(KeyDirectoryLeaf.leaf_hash).where(KeyDirectoryLeaf.leaf_index == known - 1)
        )
        if stored != hashes[known - 1]:
            with _caches_lock:
                cache.hashes, cache.compact = [], []
            hashes, compact, known = [], [], 0
    if known < len(hashes):  # an older size than the cache's (a read that began earlier)
        hashes = hashes[:known]
        compact = _compact_of(hashes)
    if known < size:
        fresh = session.scalars(
            select(KeyDirectoryLeaf.leaf_hash)
            .where(KeyDirectoryLeaf.leaf_index >= known, KeyDirectoryLeaf.leaf_index < size)
            .order_by(KeyDirectoryLeaf.leaf_index)
        ).all()
        if len(fresh) != size - known:  # rows deleted behind the app's back (no trigger on SQLite)
            raise RuntimeError("the key directory has a gap")
        hashes = [*hashes, *fresh]
        for leaf_hash in fresh:
            compact = transparency.compact_range_append(compact, leaf_hash)
        with _caches_lock:
            if len(hashes) > len(cache.hashes):
                cache.hashes, cache.compact = hashes, compact
    return hashes, compact


def leaf_hashes(session: Session, size: int) -> list[bytes]:
    """The first ``size`` leaf hashes, in log order (from the process cache where it can)."""
    return _load(session, size)[0]


def _compact_of(hashes: Sequence[bytes]) -> _Compact:
    compact: _Compact = []
    for leaf_hash in hashes:
        compact = transparency.compact_range_append(compact, leaf_hash)
    return compact


def tree_size(session: Session) -> int:
    """How many leaves the log has (every size it ever had has a signed checkpoint)."""
    return session.scalar(select(func.coalesce(func.max(KeyDirectoryCheckpoint.tree_size), 0))) or 0


def _lock_for_append(session: Session) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _APPEND_LOCK})


#: A signed statement: a log leaf beside the key bindings (docs/crypto.md, section 5.12).
Statement = KeyEndorsement | MembershipStatement | GroupEpochStatement
LogItem = KeyBinding | Statement


@dataclass(frozen=True)
class _Entry:
    """One leaf and the columns that index it. A statement's purpose is its type byte and its
    epoch the epoch or sequence it is for, so the unique index allows one per epoch."""

    subject_kind: int
    subject_id: UUID
    purpose: int
    epoch: int
    public_key: bytes | None
    leaf: bytes


def _entry(item: LogItem) -> _Entry:
    if isinstance(item, KeyBinding):
        return _Entry(
            item.subject_kind.value,
            item.subject_id,
            item.purpose.value,
            item.epoch,
            item.public_key,
            item.to_leaf(),
        )
    if isinstance(item, KeyEndorsement):
        kind, subject, purpose, epoch = (
            SubjectKind.USER,
            item.user_id,
            ENDORSEMENT_TYPE,
            item.epoch,
        )
    elif isinstance(item, MembershipStatement):
        kind, subject, purpose, epoch = (
            SubjectKind.GROUP,
            item.group_id,
            MEMBERSHIP_TYPE,
            item.sequence,
        )
    else:
        kind, subject, purpose, epoch = (
            SubjectKind.GROUP,
            item.group_id,
            GROUP_EPOCH_TYPE,
            item.epoch,
        )
    return _Entry(kind.value, subject, purpose, epoch, None, item.to_leaf())


def _check_epochs(session: Session, entries: Sequence[_Entry]) -> None:
    subjects = {(e.subject_kind, e.subject_id, e.purpose) for e in entries}
    rows = session.execute(
        select(
            KeyDirectoryLeaf.subject_kind,
            KeyDirectoryLeaf.subject_id,
            KeyDirectoryLeaf.purpose,
            func.max(KeyDirectoryLeaf.epoch),
        )
        .where(
            tuple_(
                KeyDirectoryLeaf.subject_kind,
                KeyDirectoryLeaf.subject_id,
                KeyDirectoryLeaf.purpose,
            ).in_(subjects)
        )
        .group_by(
            KeyDirectoryLeaf.subject_kind, KeyDirectoryLeaf.subject_id, KeyDirectoryLeaf.purpose
        )
    )
    latest = {(kind, subject, purpose): epoch for kind, subject, purpose, epoch in rows}
    for entry in entries:
        key = (entry.subject_kind, entry.subject_id, entry.purpose)
        if key in latest and entry.epoch <= latest[key]:
            if entry.epoch == latest[key]:
                raise Conflict("a key is already published for this epoch", field="epoch")
            raise Conflict("a newer key is already published", field="epoch")
        latest[key] = entry.epoch


def publish_bindings(
    session: Session, *, bindings: Sequence[LogItem], now: datetime, log: LogSigner
) -> list[int]:
    """Append ``bindings`` (key bindings and signed statements) to the log in the caller's
    transaction; their leaf indexes, in order.

    A binding whose subject and purpose already have this epoch or a later one is refused
    (Conflict), and so is a statement for an epoch or sequence already stated. The new tree
    size gets its signed checkpoint.
    """
    if not bindings:
        return []
    entries = [_entry(item) for item in bindings]
    _lock_for_append(session)
    _check_epochs(session, entries)
    size = tree_size(session)
    _hashes, compact = _load(session, size)
    indexes = []
    for offset, entry in enumerate(entries):
        leaf_hash = transparency.leaf_hash(entry.leaf)
        session.add(
            KeyDirectoryLeaf(
                leaf_index=size + offset,
                subject_kind=entry.subject_kind,
                subject_id=entry.subject_id,
                purpose=entry.purpose,
                epoch=entry.epoch,
                public_key=entry.public_key,
                leaf=entry.leaf,
                leaf_hash=leaf_hash,
                created_at=now,
            )
        )
        compact = transparency.compact_range_append(compact, leaf_hash)
        indexes.append(size + offset)
    new_size = size + len(entries)
    root = transparency.compact_range_root(compact)
    session.add(
        KeyDirectoryCheckpoint(
            tree_size=new_size,
            root_hash=root,
            signed_note=log.sign(Checkpoint(log.origin, new_size, root)),
            created_at=now,
        )
    )
    session.flush()
    return indexes


# Reading ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Head:
    origin: str
    public_key: bytes
    tree_size: int
    signed_checkpoint: str


def signed_checkpoint(session: Session, *, size: int, log: LogSigner) -> str:
    """The signed note of the checkpoint at ``size`` (the empty tree's is signed on demand), with
    the witnesses' cosignatures of that size appended when the deployment has witnesses."""
    if size == 0:
        return log.sign(Checkpoint(log.origin, 0, transparency.tree_root([])))
    note = session.get_one(KeyDirectoryCheckpoint, size).signed_note
    if isinstance(log, CosignedLogKey):  # only then: no extra query without witnesses
        lines = session.scalars(
            select(KeyDirectoryCosignature.line)
            .where(KeyDirectoryCosignature.tree_size == size)
            .order_by(KeyDirectoryCosignature.witness)
        )
        note += "".join(lines)
    return note


def log_head(session: Session, *, log: LogSigner) -> Head:
    """The log's identity and its latest signed checkpoint (the empty tree's, signed now, if none)."""
    size = tree_size(session)
    return Head(log.origin, log.public_key, size, signed_checkpoint(session, size=size, log=log))


def consistency(session: Session, *, old_size: int, new_size: int) -> list[bytes]:
    """RFC 9162 PROOF(old_size, D[new_size]) for two sizes the log has had."""
    size = tree_size(session)
    if not 0 <= new_size <= size:
        raise InvalidInput("the log has not reached this size", field="to")
    if not 0 <= old_size <= new_size:
        raise InvalidInput("the old size must be between 0 and the new size", field="from")
    hashes, _compact = _load(session, new_size)
    return transparency.consistency_proof(hashes, old_size)


def current_encryption_keys(
    session: Session, *, user_ids: Sequence[UUID], size: int | None = None
) -> dict[UUID, Proven]:
    """Users' current encryption bindings, by user id (those without one are left out), proven
    against the tree of ``size`` leaves (default: the latest)."""
    return {
        proven.binding.subject_id: proven
        for proven in proven_current(
            session, SubjectKind.USER, user_ids, [KeyPurpose.ENCRYPTION], size=size
        )
    }


@dataclass(frozen=True)
class Proven:
    """A binding with its place in the log and its inclusion proof against ``tree_size``."""

    binding: KeyBinding
    leaf_index: int
    tree_size: int
    proof: list[bytes]


def proven_current(
    session: Session,
    kind: SubjectKind,
    subject_ids: Sequence[UUID],
    purposes: Sequence[KeyPurpose],
    *,
    size: int | None = None,
) -> list[Proven]:
    """The newest binding of each subject and purpose among the first ``size`` leaves (default:
    the whole log), proven against the checkpoint of that size."""
    if size is None:
        size = tree_size(session)
    newest = (
        select(
            KeyDirectoryLeaf.subject_id,
            KeyDirectoryLeaf.purpose,
            func.max(KeyDirectoryLeaf.epoch).label("epoch"),
        )
        .where(
            KeyDirectoryLeaf.subject_kind == kind.value,
            KeyDirectoryLeaf.subject_id.in_(subject_ids),
            KeyDirectoryLeaf.purpose.in_([p.value for p in purposes]),
            KeyDirectoryLeaf.leaf_index < size,
        )
        .group_by(KeyDirectoryLeaf.subject_id, KeyDirectoryLeaf.purpose)
        .subquery()
    )
    rows = session.execute(
        select(KeyDirectoryLeaf.leaf_index, KeyDirectoryLeaf.leaf)
        .join(
            newest,
            and_(
                KeyDirectoryLeaf.subject_kind == kind.value,
                KeyDirectoryLeaf.subject_id == newest.c.subject_id,
                KeyDirectoryLeaf.purpose == newest.c.purpose,
                KeyDirectoryLeaf.epoch == newest.c.epoch,
            ),
        )
        .order_by(KeyDirectoryLeaf.leaf_index)
    ).all()
    if not rows:
        return []
    hashes, _compact = _load(session, size)
    proofs = transparency.inclusion_proofs(hashes, [row.leaf_index for row in rows])
    return [
        Proven(KeyBinding.from_leaf(row.leaf), row.leaf_index, size, proof)
        for row, proof in zip(rows, proofs, strict=True)
    ]


@dataclass(frozen=True)
class ProvenLeaf:
    """Any leaf of the log (binding or statement) with its inclusion proof against ``tree_size``."""

    leaf: bytes
    leaf_index: int
    tree_size: int
    proof: list[bytes]


def subject_log(
    session: Session, kind: SubjectKind, subject_id: UUID, *, size: int
) -> list[ProvenLeaf]:
    """Every leaf about one subject among the first ``size``, in log order, each proven: a user's
    bindings and key endorsements, or a group's bindings and statements. Clients verify the
    chains from these; the server's own checks are no part of what they trust."""
    rows = session.execute(
        select(KeyDirectoryLeaf.leaf_index, KeyDirectoryLeaf.leaf)
        .where(
            KeyDirectoryLeaf.subject_kind == kind.value,
            KeyDirectoryLeaf.subject_id == subject_id,
            KeyDirectoryLeaf.leaf_index < size,
        )
        .order_by(KeyDirectoryLeaf.leaf_index)
    ).all()
    hashes, _compact = _load(session, size)
    proofs = transparency.inclusion_proofs(hashes, [row.leaf_index for row in rows])
    return [
        ProvenLeaf(row.leaf, row.leaf_index, size, proof)
        for row, proof in zip(rows, proofs, strict=True)
    ]
