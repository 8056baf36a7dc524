"""Checkpoints leave the database: appended to a file witness, submitted to HTTP witnesses.

The **file witness** is a directory outside the database (another disk, a mount shipped to
another host) where each signed checkpoint is appended, one JSON line per checkpoint, to one
file per log (``audit.checkpoints``, ``key-directory.checkpoints``). Whoever rewrites the
database cannot take back what was exported: ``colloque audit verify`` checks every exported
checkpoint against the database, so a rollback, a rewrite or a fork shows.

**HTTP witnesses** speak C2SP tlog-witness (``colloque witness serve``): the latest checkpoint is
submitted with the consistency proof from the size each witness last cosigned, and its verified
cosignature line is kept (``audit_cosignatures``). Both run after the checkpoint's transaction
committed, so nothing a rollback could take back is ever exported.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import structlog
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from colloque.audit import checkpoints
from colloque.audit.interfaces import Witness, WitnessConflict, WitnessUnavailable
from colloque.audit.models import AuditCheckpoint, AuditCosignature
from colloque.crypto import witness as cosigning
from colloque.crypto.errors import ProofInvalid
from colloque.crypto.transparency import Checkpoint
from colloque.storage.engine import Database

log = structlog.get_logger("colloque.audit.witnesses")
AUDIT_LOG = "audit"
KEY_DIRECTORY_LOG = "key-directory"
#: How far from its end a file is read to find its last checkpoint: far more than one line.
_TAIL_BYTES = 64 * 1024


class ExportUnreadable(Exception):
    """An exported file that does not parse: someone wrote into it besides the server."""


@dataclass(frozen=True)
class Exported:
    line: int
    tree_size: int
    note: str


class FileWitness:
    """Append-only files of signed checkpoints, one per log, in ``directory``."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def path(self, log_name: str) -> Path:
        return self.directory / f"{log_name}.checkpoints"

    def append(self, log_name: str, *, tree_size: int, note: str) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        record = json.dumps({"size": tree_size, "note": note}, separators=(",", ":")) + "\n"
        handle = os.open(self.path(log_name), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
        try:
            os.write(handle, record.encode("utf-8"))
            os.fsync(handle)
        finally:
            os.close(handle)

    def last_size(self, log_name: str) -> int | None:
        """The size of the last checkpoint exported, None when none was."""
        try:
            with self.path(log_name).open("rb") as source:
                end = source.seek(0, os.SEEK_END)
                source.seek(max(0, end - _TAIL_BYTES))
                lines = source.read().splitlines()
        except FileNotFoundError:
            return None
        return _parse(lines[-1], 0).tree_size if lines else None

    def read(self, log_name: str) -> Iterator[Exported]:
        """Every checkpoint exported, in the order it was (streamed)."""
        try:
            source = self.path(log_name).open("rb")
        except FileNotFoundError:
            return
        with source:
            for number, line in enumerate(source, start=1):
                yield _parse(line, number)


def _parse(line: bytes, number: int) -> Exported:
    try:
        record = json.loads(line)
        size, note = record["size"], record["note"]
    except (ValueError, TypeError, KeyError):
        raise ExportUnreadable(f"line {number} is not a checkpoint record") from None
    if not isinstance(size, int) or not isinstance(note, str) or size < 0:
        raise ExportUnreadable(f"line {number} is not a checkpoint record")
    return Exported(number, size, note)


def export_audit_checkpoints(
    database: Database, witness: FileWitness, *, limit: int = 1_000
) -> int:
    """Append the audit checkpoints the file witness has not seen yet (at most ``limit`` per
    call: a witness directory that was away catches up over a few rounds)."""
    last = witness.last_size(AUDIT_LOG)
    with database.read() as session:
        rows = session.execute(
            select(AuditCheckpoint.tree_size, AuditCheckpoint.signed_note)
            .where(AuditCheckpoint.tree_size > (-1 if last is None else last))
            .order_by(AuditCheckpoint.tree_size)
            .limit(limit)
        ).all()
    for tree_size, note in rows:
        witness.append(AUDIT_LOG, tree_size=tree_size, note=note)
    return len(rows)


# HTTP witnesses -----------------------------------------------------------------------------


def _valid_line(member: Witness, checkpoint: Checkpoint, lines: str) -> str | None:
    """The witness's own cosignature line among ``lines``, verified before it is kept."""
    for line in lines.splitlines():
        parts = line.split(" ")
        if len(parts) != 3 or parts[0] != "\u2014" or parts[1] != member.name:
            continue
        try:
            cosigning.verify_cosignature(
                checkpoint, name=member.name, public_key=member.public_key, encoded=parts[2]
            )
        except ProofInvalid:
            continue
        return line + "\n"
    return None


def _submit(session: Session, member: Witness, old_size: int, head: AuditCheckpoint) -> str | None:
    for _attempt in range(2):
        if old_size > head.tree_size:
            log.warning("witness ahead of the audit log", witness=member.name, size=old_size)
            return None
        proof = checkpoints.consistency(session, old_size=old_size, new_size=head.tree_size)
        try:
            return member.add_checkpoint(
                old_size=old_size, proof=proof, signed_note=head.signed_note
            )
        except WitnessConflict as conflict:
            old_size = conflict.size
        except WitnessUnavailable as error:
            log.warning("witness did not cosign", witness=member.name, reason=str(error))
            return None
    log.warning("witness keeps answering 409", witness=member.name, size=old_size)
    return None


def submit_latest(
    database: Database, witnesses: Sequence[Witness], *, origin: str, now: datetime
) -> int:
    """Submit the latest audit checkpoint to each witness that has not cosigned it; how many
    cosignatures were stored. Failures are logged and left to the next round."""
    if not witnesses:
        return 0
    with database.read() as session:
        head = session.scalars(
            select(AuditCheckpoint).order_by(AuditCheckpoint.tree_size.desc()).limit(1)
        ).first()
        if head is None:
            return 0
        cosigned = cosigned_sizes(session)
        checkpoint = Checkpoint(origin, head.tree_size, head.root_hash)
        lines = {}
        for member in witnesses:
            if cosigned.get(member.name, 0) >= head.tree_size:
                continue
            answer = _submit(session, member, cosigned.get(member.name, 0), head)
            if answer is None:
                continue
            line = _valid_line(member, checkpoint, answer)
            if line is None:
                log.warning("witness answered without a valid cosignature", witness=member.name)
                continue
            lines[member.name] = line
        size = head.tree_size
    with database.write() as session:
        for name, line in lines.items():
            session.add(AuditCosignature(tree_size=size, witness=name, line=line, created_at=now))
    return len(lines)


def cosigned_sizes(session: Session) -> dict[str, int]:
    """Per witness, the largest checkpoint size it cosigned."""
    rows = session.execute(
        select(AuditCosignature.witness, func.max(AuditCosignature.tree_size)).group_by(
            AuditCosignature.witness
        )
    )
    return {row[0]: row[1] for row in rows}
