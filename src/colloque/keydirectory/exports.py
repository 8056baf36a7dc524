"""The key directory's checkpoints go to the audit log's file witness too, and are checked there.

A server that showed two key logs to two groups of clients would have to sign two checkpoints
that do not extend each other. Every checkpoint it signed is exported (the upkeep appends the
new ones), and ``colloque audit verify`` checks each exported one: signed by the log's key, the
root the stored leaves had at that size, and not beyond the log (a rollback). A fork exported
once stays in the file, whatever the database says afterwards.
"""

from __future__ import annotations

from sqlalchemy import select

from colloque.audit.verify import Expected, Inconsistency, VerificationFailed
from colloque.audit.witnesses import KEY_DIRECTORY_LOG, ExportUnreadable, FileWitness
from colloque.crypto import transparency
from colloque.crypto.errors import ProofInvalid
from colloque.keydirectory.models import KeyDirectoryCheckpoint, KeyDirectoryLeaf
from colloque.storage.engine import Database


def export_checkpoints(database: Database, witness: FileWitness, *, limit: int = 1_000) -> int:
    """Append the key directory checkpoints the file witness has not seen yet."""
    last = witness.last_size(KEY_DIRECTORY_LOG)
    with database.read() as session:
        rows = session.execute(
            select(KeyDirectoryCheckpoint.tree_size, KeyDirectoryCheckpoint.signed_note)
            .where(KeyDirectoryCheckpoint.tree_size > (-1 if last is None else last))
            .order_by(KeyDirectoryCheckpoint.tree_size)
            .limit(limit)
        ).all()
    for tree_size, note in rows:
        witness.append(KEY_DIRECTORY_LOG, tree_size=tree_size, note=note)
    return len(rows)


def _fail(line: int, problem: str) -> VerificationFailed:
    return VerificationFailed(
        Inconsistency(f"file witness ({KEY_DIRECTORY_LOG}), line {line}", problem)
    )


def verify_exported(database: Database, witness: FileWitness, *, expected: Expected) -> int:
    """Check every exported key directory checkpoint against the stored leaves; how many."""
    try:
        exported = sorted(
            (record.tree_size, record.line, record.note)
            for record in witness.read(KEY_DIRECTORY_LOG)
        )
    except ExportUnreadable as error:
        raise VerificationFailed(
            Inconsistency(f"file witness ({KEY_DIRECTORY_LOG})", str(error))
        ) from None
    if not exported:
        return 0
    compact: list[tuple[int, bytes]] = []
    size = 0
    pending = iter(exported)
    current = next(pending, None)
    with database.read() as session:
        hashes = session.execute(
            select(KeyDirectoryLeaf.leaf_index, KeyDirectoryLeaf.leaf_hash)
            .order_by(KeyDirectoryLeaf.leaf_index)
            .execution_options(yield_per=10_000)
        )
        try:
            for index, leaf_hash in hashes:
                if current is None:
                    break
                if index != size:
                    raise _fail(current[1], f"the key directory lacks its leaf {size}")
                compact = transparency.compact_range_append(compact, leaf_hash)
                size += 1
                while current is not None and current[0] == size:
                    _check(current, transparency.compact_range_root(compact), expected)
                    current = next(pending, None)
        finally:
            hashes.close()  # the server-side cursor, even when a check stopped the walk
    if current is not None:
        raise _fail(
            current[1],
            f"rolled back: a checkpoint of size {current[0]} was exported, the key directory "
            f"has {size} leaves",
        )
    return len(exported)


def _check(record: tuple[int, int, str], root: bytes, expected: Expected) -> None:
    size, line, note = record
    try:
        checkpoint = transparency.verify_checkpoint(
            note, origin=expected.origin, log_public_key=expected.public_key
        )
    except ProofInvalid as error:
        raise _fail(line, f"the exported note does not verify ({error})") from None
    if checkpoint.tree_size != size:
        raise _fail(line, "the record's size is not its note's")
    if checkpoint.root_hash != root:
        raise _fail(
            line,
            f"forked: the exported checkpoint of size {size} has another root than the key "
            "directory's leaves at that size",
        )
