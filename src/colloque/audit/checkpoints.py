"""Signed checkpoints over the log of heads, and consistency proofs between any two of them.

One checkpoint (C2SP tlog-checkpoint, a signed note) commits to every head of every log, so one
signature and one witness protocol cover all practices' logs. The sequencer signs one at a fixed
cadence when the heads grew (``COLLOQUE_AUDIT_CHECKPOINT_SECONDS``), and ``colloque audit
checkpoint`` signs one on demand. The time a checkpoint vouches for is its last head's ``at``,
which the signed root commits to; witnesses add their own timestamps (docs/audit.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from colloque.audit import sequencer
from colloque.audit.interfaces import CheckpointSigner
from colloque.audit.models import AuditCheckpoint
from colloque.crypto import transparency
from colloque.crypto.transparency import Checkpoint
from colloque.errors import InvalidInput
from colloque.storage.engine import Database


@dataclass(frozen=True)
class SignedCheckpoint:
    tree_size: int
    root_hash: bytes
    signed_note: str
    signed_at: datetime


def _of(row: AuditCheckpoint) -> SignedCheckpoint:
    return SignedCheckpoint(row.tree_size, row.root_hash, row.signed_note, row.signed_at)


def latest(session: Session) -> SignedCheckpoint | None:
    row = session.scalars(
        select(AuditCheckpoint).order_by(AuditCheckpoint.tree_size.desc()).limit(1)
    ).first()
    return None if row is None else _of(row)


def sign_if_due(
    database: Database,
    *,
    signer: CheckpointSigner,
    origin: str,
    now: datetime,
    cadence: timedelta | None,
) -> SignedCheckpoint | None:
    """Sign a checkpoint of the current log of heads if it grew since the latest one and that
    one is ``cadence`` old (None: at once); the new checkpoint, or None."""
    with database.write() as session:
        sequencer.lock(session)
        previous = latest(session)
        heads = sequencer.heads_tree(session)
        size = len(heads.hashes)
        if size == 0 or (previous is not None and previous.tree_size == size):
            return None
        if cadence is not None and previous is not None and now - previous.signed_at < cadence:
            return None
        root = transparency.compact_range_root(heads.compact)
        note = transparency.signed_note(
            Checkpoint(origin, size, root), public_key=signer.public_key, sign=signer.sign
        )
        row = AuditCheckpoint(tree_size=size, root_hash=root, signed_note=note, signed_at=now)
        session.add(row)
        session.flush()
        signed = _of(row)
    sequencer.publish(session, logs={}, heads=heads)
    return signed


def consistency(session: Session, *, old_size: int, new_size: int) -> list[bytes]:
    """RFC 9162 PROOF(old_size, D[new_size]) over the log of heads, for any two sizes it has had
    (two checkpoints', a witness's and the latest)."""
    heads = sequencer.heads_tree(session)
    if not 0 <= new_size <= len(heads.hashes):
        raise InvalidInput("the log of heads has not reached this size", field="to")
    if not 0 <= old_size <= new_size:
        raise InvalidInput("the old size must be between 0 and the new size", field="from")
    return transparency.consistency_proof(heads.hashes[:new_size], old_size)
