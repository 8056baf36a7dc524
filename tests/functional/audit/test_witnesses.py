"""Audit checkpoints go to the witnesses: the tlog-witness service cosigns them (409s adopted,
failures left to the next round); the key directory's checkpoints are exported beside them and
checked against its leaves."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path
from uuid import UUID

import pytest
from sqlalchemy import delete, select, update

from colloque.audit import verify as checks
from colloque.audit.interfaces import WitnessConflict, WitnessUnavailable
from colloque.audit.models import AuditCosignature
from colloque.audit.upkeep import Sealing
from colloque.audit.witnesses import KEY_DIRECTORY_LOG, FileWitness, submit_latest
from colloque.clock import SettableClock
from colloque.crypto import transparency, witness
from colloque.crypto.transparency import KeyBinding, KeyPurpose, SubjectKind
from colloque.keydirectory import services as key_log
from colloque.keydirectory.config import LogKey
from colloque.keydirectory.exports import export_checkpoints, verify_exported
from colloque.keydirectory.models import KeyDirectoryLeaf
from colloque.keydirectory.witnesses import HttpWitness, submission_body
from colloque.storage.engine import Database
from colloque.witness.keys import WitnessKey
from colloque.witness.services import Refused
from colloque.witness.services import Witness as WitnessService
from colloque.witness.storage import Store
from colloque.worker import run_cycle
from tests.functional.audit.conftest import ORIGIN, PRACTICE_A, tampering, write_events
from tests.witnesses import running_witness

KEY_LOG = LogKey(origin="colloque.test/key-directory", seed=b"\x11" * 32)


class InProcessWitness:
    """The witness service behind the ``Witness`` protocol."""

    def __init__(self, data_dir: Path, logs: dict[str, bytes], clock: SettableClock) -> None:
        self.service = WitnessService(
            key=WitnessKey("one.test", b"\x01" * 32), logs=logs, store=Store(data_dir), clock=clock
        )
        self.name = self.service.key.name
        self.public_key = self.service.key.public_key

    def add_checkpoint(self, *, old_size: int, proof: Sequence[bytes], signed_note: str) -> str:
        body = submission_body(old_size=old_size, proof=proof, signed_note=signed_note)
        try:
            return self.service.add_checkpoint(body)
        except Refused as refused:
            if refused.size is not None:
                raise WitnessConflict(refused.size) from None
            raise WitnessUnavailable(str(refused)) from None


@dataclasses.dataclass
class Scripted:
    """A witness that answers what it is told to."""

    name: str = "scripted.test"
    public_key: bytes = b"\x02" * 32
    answer: str | Exception = ""

    def add_checkpoint(self, *, old_size: int, proof: Sequence[bytes], signed_note: str) -> str:
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


def test_witnesses_cosign_and_conflicts_are_adopted(
    db: Database, clock: SettableClock, sealing: Sealing, tmp_path: Path
) -> None:
    member = InProcessWitness(tmp_path / "w", {ORIGIN: sealing.signer.public_key}, clock)
    sealing = dataclasses.replace(sealing, witnesses=[member])
    assert submit_latest(db, [member], origin=ORIGIN, now=clock.now()) == 0  # no checkpoint yet
    write_events(db, clock, 4, [PRACTICE_A, None])
    assert sealing.run(db, clock).cosigned == 1
    assert sealing.run(db, clock).cosigned == 0  # already cosigned
    write_events(db, clock, 2, [PRACTICE_A])
    # The server forgot what the witness cosigned: the witness's 409 tells it, once.
    with db.write() as session:
        session.execute(delete(AuditCosignature))
    assert sealing.run(db, clock, force=True).cosigned == 1
    with db.read() as session:
        line, size = session.execute(
            select(AuditCosignature.line, AuditCosignature.tree_size)
        ).one()
        from colloque.audit.checkpoints import latest

        head = latest(session)
    assert head is not None
    assert size == head.tree_size
    checkpoint = witness.verify_witnessed_checkpoint(
        head.signed_note + line,
        origin=ORIGIN,
        log_public_key=sealing.signer.public_key,
        witnesses={member.name: member.public_key},
        threshold=1,
    )
    assert checkpoint.tree_size == size


@pytest.mark.parametrize(
    ("answer", "cosigned"),
    [
        (WitnessUnavailable("down"), 0),
        ("— scripted.test AAAA\n— other.test AAAA\nnot a line\n", 0),
        (WitnessConflict(10**6), 0),  # ahead of this log: nothing to give it
        (WitnessConflict(0), 0),  # keeps answering 409
    ],
    ids=["down", "no-valid-line", "ahead", "conflicts"],
)
def test_failing_witnesses_are_left_to_the_next_round(
    db: Database,
    clock: SettableClock,
    sealing: Sealing,
    answer: str | Exception,
    cosigned: int,
) -> None:
    write_events(db, clock, 2, [PRACTICE_A])
    sealing = dataclasses.replace(sealing, witnesses=[Scripted(answer=answer)])
    assert sealing.run(db, clock).cosigned == cosigned


def _publish_keys(db: Database, clock: SettableClock, epochs: range) -> None:
    for epoch in epochs:
        binding = KeyBinding(
            SubjectKind.GROUP, UUID(int=5), KeyPurpose.ENCRYPTION, epoch, bytes([epoch]) * 32
        )
        with db.write() as session:
            key_log.publish_bindings(session, bindings=[binding], now=clock.now(), log=KEY_LOG)


def test_key_directory_checkpoints_are_exported_and_checked(
    db: Database, clock: SettableClock, sealing: Sealing
) -> None:
    expected = checks.Expected(KEY_LOG.origin, KEY_LOG.public_key)
    assert sealing.file_witness is not None
    files = sealing.file_witness
    assert verify_exported(db, files, expected=expected) == 0
    _publish_keys(db, clock, range(1, 4))
    write_events(db, clock, 1, [None])
    report = run_cycle(db, clock, batch=10, audit=sealing)
    assert (report.audit_integrated, report.audit_checkpoint) == (1, 1)
    assert files.last_size(KEY_DIRECTORY_LOG) == 3
    _publish_keys(db, clock, range(4, 6))
    assert export_checkpoints(db, files) == 2
    assert export_checkpoints(db, files) == 0
    _publish_keys(db, clock, range(6, 7))  # not exported yet: the check stops at the last one
    assert verify_exported(db, files, expected=expected) == 5

    # A key log rewritten after its export forks from it.
    with tampering(db) as session:
        session.execute(
            update(KeyDirectoryLeaf)
            .where(KeyDirectoryLeaf.leaf_index == 4)
            .values(leaf_hash=b"\x00" * 32)
        )
    with pytest.raises(checks.VerificationFailed, match="line 5: forked"):
        verify_exported(db, files, expected=expected)
    # Rolled back below what was exported.
    with tampering(db) as session:
        session.execute(delete(KeyDirectoryLeaf).where(KeyDirectoryLeaf.leaf_index >= 4))
    with pytest.raises(
        checks.VerificationFailed, match="line 5: rolled back: a checkpoint of size 5"
    ):
        verify_exported(db, files, expected=expected)
    with tampering(db) as session:
        session.execute(delete(KeyDirectoryLeaf).where(KeyDirectoryLeaf.leaf_index == 1))
    with pytest.raises(checks.VerificationFailed, match="lacks its leaf 1"):
        verify_exported(db, files, expected=expected)


def test_key_directory_exports_that_do_not_verify(
    db: Database, clock: SettableClock, tmp_path: Path
) -> None:
    files = FileWitness(tmp_path)
    expected = checks.Expected(KEY_LOG.origin, KEY_LOG.public_key)
    _publish_keys(db, clock, range(1, 3))
    with db.read() as session:
        root = transparency.tree_root(key_log.leaf_hashes(session, 1))
    other = LogKey(origin=KEY_LOG.origin, seed=b"\x12" * 32)
    files.append(
        KEY_DIRECTORY_LOG,
        tree_size=1,
        note=other.sign(transparency.Checkpoint(KEY_LOG.origin, 1, root)),
    )
    with pytest.raises(checks.VerificationFailed, match="line 1: the exported note does not"):
        verify_exported(db, files, expected=expected)
    files.path(KEY_DIRECTORY_LOG).write_text("")
    files.append(
        KEY_DIRECTORY_LOG,
        tree_size=2,
        note=KEY_LOG.sign(transparency.Checkpoint(KEY_LOG.origin, 1, root)),
    )
    with pytest.raises(checks.VerificationFailed, match="line 1: the record's size is not"):
        verify_exported(db, files, expected=expected)
    files.path(KEY_DIRECTORY_LOG).write_text("{}\n")
    with pytest.raises(checks.VerificationFailed, match="line 1 is not a checkpoint record"):
        verify_exported(db, files, expected=expected)


def test_one_witness_process_follows_both_logs(
    sqlite_db: Database, clock: SettableClock, sealing: Sealing, tmp_path: Path
) -> None:
    logs = {ORIGIN: sealing.signer.public_key, KEY_LOG.origin: KEY_LOG.public_key}
    with running_witness(tmp_path / "witness-process", "both.test", logs) as running:
        member = HttpWitness(running.name, running.public_key, running.url)
        write_events(sqlite_db, clock, 3, [PRACTICE_A])
        sealing = dataclasses.replace(sealing, witnesses=[member], file_witness=None)
        report = sealing.run(sqlite_db, clock)
        assert (report.cosigned, report.exported) == (1, 0)
