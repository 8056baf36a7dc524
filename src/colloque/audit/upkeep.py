"""Audit upkeep: full client addresses are forgotten once the retention period is over, and
the sequencer, checkpoints and witnesses run (:class:`Sealing`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.orm import Session

from colloque.audit import checkpoints, sequencer
from colloque.audit.interfaces import CheckpointSigner, Witness
from colloque.audit.models import AuditClientAddress
from colloque.audit.witnesses import FileWitness, export_audit_checkpoints, submit_latest
from colloque.clock import Clock
from colloque.storage.engine import Database


def forget_client_addresses(session: Session, *, now: datetime, retention: timedelta) -> int:
    """Delete the full addresses (and salts) of events older than ``retention``; the events keep
    the prefix and a commitment nobody can open any more. Returns how many were forgotten."""
    result = session.execute(
        delete(AuditClientAddress).where(AuditClientAddress.at < now - retention)
    )
    return int(getattr(result, "rowcount", 0))


@dataclass(frozen=True)
class SealReport:
    integrated: int
    checkpoint: int | None
    exported: int
    cosigned: int


@dataclass(frozen=True)
class Sealing:
    """What each upkeep round does for tamper evidence: integrate pending events, sign a
    checkpoint when due, export it to the file witness, submit it to the HTTP witnesses."""

    signer: CheckpointSigner
    origin: str
    cadence: timedelta
    batch: int
    round_limit: int
    file_witness: FileWitness | None = None
    witnesses: Sequence[Witness] = ()

    def run(self, database: Database, clock: Clock, *, force: bool = False) -> SealReport:
        """One round; ``force`` signs a checkpoint now if the logs grew, whatever the cadence."""
        integrated = sequencer.integrate(
            database, now=clock.now(), batch=self.batch, limit=self.round_limit
        )
        signed = checkpoints.sign_if_due(
            database,
            signer=self.signer,
            origin=self.origin,
            now=clock.now(),
            cadence=None if force else self.cadence,
        )
        exported = 0
        if self.file_witness is not None:
            exported = export_audit_checkpoints(database, self.file_witness)
        cosigned = submit_latest(database, self.witnesses, origin=self.origin, now=clock.now())
        return SealReport(
            integrated.events, None if signed is None else signed.tree_size, exported, cosigned
        )
