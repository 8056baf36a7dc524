"""The server's side of witnessing: submit each new checkpoint, keep the cosignatures, serve the
latest checkpoint enough witnesses cosigned (docs/crypto.md, section 5.13).

Submissions happen after the transaction that appended to the log has committed (a witness must
never cosign a checkpoint that a rollback could take back), each in its own short transactions:
a witness that is slow or down delays nothing but its own cosignature. What each witness last
cosigned is what is stored here, so the next submission carries the proof from that size; a 409
says the witness knows better, and its size is adopted for one retry.
"""

from __future__ import annotations

import base64
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx2
import structlog
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from colloque.clock import Clock
from colloque.config import Settings
from colloque.crypto import transparency, witness
from colloque.crypto.errors import ProofInvalid
from colloque.keydirectory import services
from colloque.keydirectory.interfaces import (
    LogSigner,
    Witness,
    WitnessConflict,
    WitnessUnavailable,
)
from colloque.keydirectory.models import KeyDirectoryCheckpoint, KeyDirectoryCosignature
from colloque.storage.engine import Database

log = structlog.get_logger("colloque.keydirectory.witnesses")
SIZE_CONTENT_TYPE = "text/x.tlog.size"
#: How long write requests leave a witness that failed to the background retry.
RESTING = timedelta(minutes=1)


def submission_body(*, old_size: int, proof: Sequence[bytes], signed_note: str) -> str:
    """A tlog-witness ``add-checkpoint`` body: the old size, the proof lines, a blank line, the note."""
    lines = "".join(base64.b64encode(h).decode("ascii") + "\n" for h in proof)
    return f"old {old_size}\n{lines}\n{signed_note}"


@dataclass(frozen=True)
class HttpWitness:
    """A :class:`~colloque.keydirectory.interfaces.Witness` reached over HTTP."""

    name: str
    public_key: bytes
    url: str
    timeout: float = 10.0

    def add_checkpoint(self, *, old_size: int, proof: Sequence[bytes], signed_note: str) -> str:
        body = submission_body(old_size=old_size, proof=proof, signed_note=signed_note)
        try:
            response = httpx2.post(
                f"{self.url}/add-checkpoint", content=body.encode("utf-8"), timeout=self.timeout
            )
        except httpx2.HTTPError as error:
            raise WitnessUnavailable(f"{self.name}: {type(error).__name__}") from None
        media_type = response.headers.get("content-type", "").split(";")[0].strip()
        if response.status_code == 409 and media_type == SIZE_CONTENT_TYPE:
            size = response.text.strip()
            if size.isdigit():
                raise WitnessConflict(int(size))
        if response.status_code != 200:
            raise WitnessUnavailable(f"{self.name}: HTTP {response.status_code}")
        return response.text


@dataclass(frozen=True)
class WitnessedHead:
    tree_size: int
    #: The log's signed note with the cosignature lines appended.
    signed_note: str


class Witnessing:
    """The witnesses of one deployment, the threshold its API serves at, and the submissions."""

    def __init__(
        self,
        *,
        database: Database,
        log: LogSigner,
        clock: Clock,
        witnesses: Sequence[Witness],
        threshold: int,
        refresh: timedelta | None = None,
    ) -> None:
        if not 0 <= threshold <= len(witnesses):
            raise ValueError("the threshold must be between 0 and the number of witnesses")
        self.database = database
        self.log = log
        self.clock = clock
        self.witnesses = list(witnesses)
        self.threshold = threshold
        #: Have the latest checkpoint cosigned again once its cosignatures are this old, so that
        #: clients can require recent ones (a rolled-back view cannot get new ones).
        self.refresh = refresh
        self._lock = threading.Lock()
        #: Witnesses that did not answer, and until when requests leave them to the retry.
        self._resting: dict[str, datetime] = {}

    @classmethod
    def from_settings(
        cls, settings: Settings, *, database: Database, log: LogSigner, clock: Clock
    ) -> Witnessing | None:
        """None without witnesses configured: nothing is submitted, nothing changes on reads."""
        entries = settings.witnesses
        if not entries:
            return None
        witnesses = [HttpWitness(e.name, e.public_key, e.url) for e in entries]
        return cls(
            database=database,
            log=log,
            clock=clock,
            witnesses=witnesses,
            threshold=settings.key_directory_witness_threshold,
            refresh=timedelta(seconds=settings.key_directory_witness_refresh_seconds),
        )

    # Submitting -----------------------------------------------------------------------------

    def catch_up(self, *, retry: bool = True) -> int:
        """Submit the latest checkpoint to every witness that has not cosigned it, all at once;
        how many cosignatures were stored. Failures are logged and left to the next call.

        ``retry=False`` (after a request) skips the witnesses that failed in the last
        :data:`RESTING`: a witness that is down must not make every write wait for its timeout;
        the background retry (``retry=True``) keeps trying them."""
        # One submission round at a time per process: two rounds would race each other to 409s.
        with self._lock:
            with self.database.read() as session:
                size = services.tree_size(session)
                cosigned = _cosigned_sizes(session)
                if size == 0:
                    return 0
                stale = self._stale_at(session, size)
                now = self.clock.now()
                behind = [
                    w
                    for w in self.witnesses
                    if (cosigned.get(w.name, 0) < size or w.name in stale)
                    and (retry or self._resting.get(w.name, now) <= now)
                ]
                if not behind:
                    return 0
                row = session.get_one(KeyDirectoryCheckpoint, size)
                hashes = services.leaf_hashes(session, size)
            checkpoint = transparency.Checkpoint(self.log.origin, size, row.root_hash)

            def submit(member: Witness) -> str | None:
                lines = self._submit(member, cosigned.get(member.name, 0), hashes, row.signed_note)
                return None if lines is None else self._valid_line(member, checkpoint, lines)

            # In parallel: a write waits for the slowest witness, not for the sum of them.
            with ThreadPoolExecutor(max_workers=len(behind)) as pool:
                answers = list(pool.map(submit, behind))
            stored = 0
            for member, line in zip(behind, answers, strict=True):
                if line is None:
                    self._resting[member.name] = now + RESTING
                    continue
                self._resting.pop(member.name, None)
                stored += self._store(member, size, line)
            return stored

    def _stale_at(self, session: Session, size: int) -> set[str]:
        """The witnesses whose cosignature of ``size`` is due for a refresh."""
        if self.refresh is None:
            return set()
        due = self.clock.now() - self.refresh
        return set(
            session.scalars(
                select(KeyDirectoryCosignature.witness).where(
                    KeyDirectoryCosignature.tree_size == size,
                    KeyDirectoryCosignature.created_at <= due,
                )
            )
        )

    def _submit(self, member: Witness, old_size: int, hashes: list[bytes], note: str) -> str | None:
        for _attempt in range(2):
            if old_size > len(hashes):
                # The witness has seen a larger tree than this process: nothing to give it.
                log.warning("witness ahead of the log", witness=member.name, size=old_size)
                return None
            proof = transparency.consistency_proof(hashes, old_size)
            try:
                return member.add_checkpoint(old_size=old_size, proof=proof, signed_note=note)
            except WitnessConflict as conflict:
                old_size = conflict.size
            except WitnessUnavailable as error:
                log.warning("witness did not cosign", witness=member.name, reason=str(error))
                return None
        log.warning("witness keeps answering 409", witness=member.name, size=old_size)
        return None

    @staticmethod
    def _valid_line(member: Witness, checkpoint: transparency.Checkpoint, lines: str) -> str | None:
        """The witness's own cosignature line among ``lines``, verified before it is kept."""
        for line in lines.splitlines():
            parts = line.split(" ")
            if len(parts) != 3 or parts[0] != "\u2014" or parts[1] != member.name:
                continue
            try:
                witness.verify_cosignature(
                    checkpoint, name=member.name, public_key=member.public_key, encoded=parts[2]
                )
            except ProofInvalid:
                continue
            return line + "\n"
        log.warning("witness answered without a valid cosignature", witness=member.name)
        return None

    def _store(self, member: Witness, size: int, line: str) -> int:
        try:
            with self.database.write() as session:
                found = session.get(KeyDirectoryCosignature, (size, member.name))
                if found is not None:  # a refresh: the newer cosignature replaces the older
                    found.line, found.created_at = line, self.clock.now()
                    return 1
                session.add(
                    KeyDirectoryCosignature(
                        tree_size=size, witness=member.name, line=line, created_at=self.clock.now()
                    )
                )
        except IntegrityError:  # another process stored this witness's cosignature first
            return 0
        return 1

    # Reading --------------------------------------------------------------------------------

    def witnessed_head(self, session: Session) -> WitnessedHead | None:
        """The largest checkpoint with ``threshold`` cosignatures from the configured witnesses,
        its note carrying them; None when there is none yet."""
        names = [w.name for w in self.witnesses]
        size = session.scalar(
            select(KeyDirectoryCosignature.tree_size)
            .where(KeyDirectoryCosignature.witness.in_(names))
            .group_by(KeyDirectoryCosignature.tree_size)
            .having(func.count() >= self.threshold)
            .order_by(KeyDirectoryCosignature.tree_size.desc())
            .limit(1)
        )
        if size is None:
            return None
        return WitnessedHead(size, self.cosigned_note(session, size))

    def cosigned_note(self, session: Session, size: int) -> str:
        """The log's note of ``size`` with every stored cosignature line for it appended."""
        names = [w.name for w in self.witnesses]
        lines = session.scalars(
            select(KeyDirectoryCosignature.line)
            .where(
                KeyDirectoryCosignature.tree_size == size,
                KeyDirectoryCosignature.witness.in_(names),
            )
            .order_by(KeyDirectoryCosignature.witness)
        )
        note = session.get_one(KeyDirectoryCheckpoint, size).signed_note
        return note + "".join(lines)


def _cosigned_sizes(session: Session) -> dict[str, int]:
    rows = session.execute(
        select(
            KeyDirectoryCosignature.witness, func.max(KeyDirectoryCosignature.tree_size)
        ).group_by(KeyDirectoryCosignature.witness)
    )
    return dict(rows.all())


class WitnessRetry:
    """A daemon thread that calls :meth:`Witnessing.catch_up` every ``interval`` seconds, so a
    witness that was down cosigns once it is back. Each call is bounded by the HTTP timeout."""

    def __init__(self, witnessing: Witnessing, *, interval: float) -> None:
        self._witnessing = witnessing
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="witness-retry", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self._witnessing.catch_up()
            except Exception:  # the next round tries again; the API keeps serving meanwhile
                log.exception("witness retry failed")
