"""``add-checkpoint``: verify a log's new checkpoint against the last one cosigned, then cosign it.

Each refusal is a :class:`Refused` with the HTTP status tlog-witness gives it. What this refuses
is what protects clients: a checkpoint not signed by a configured log, one that does not extend
the stored checkpoint (a rollback or a fork), or one of the stored size with another root.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from dataclasses import dataclass

from colloque.clock import Clock
from colloque.crypto import transparency, witness
from colloque.crypto.errors import ProofInvalid
from colloque.crypto.transparency import Checkpoint
from colloque.witness.keys import WitnessKey
from colloque.witness.storage import Latest, Store

#: tlog-witness: a client sends at most 63 proof lines (enough for any 64-bit tree).
MAX_PROOF_LINES = 63
MAX_BODY_BYTES = 64 * 1024
_SIZE = re.compile(r"0|[1-9][0-9]{0,18}")
SIZE_CONTENT_TYPE = "text/x.tlog.size"


class Refused(Exception):
    """A submission the witness does not cosign; ``status`` is the HTTP status to answer,
    ``size`` (on 409) the size of the latest checkpoint it cosigned for that log."""

    def __init__(self, status: int, message: str, *, size: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.size = size


@dataclass(frozen=True)
class Submission:
    old_size: int
    proof: list[bytes]
    note: str


def parse_submission(body: str) -> Submission:
    head, blank, note = body.partition("\n\n")
    lines = head.split("\n")
    old = lines[0].removeprefix("old ")
    if not blank or old == lines[0] or not _SIZE.fullmatch(old):
        raise Refused(400, "the body starts with an old size line, then a blank line")
    if len(lines) - 1 > MAX_PROOF_LINES:
        raise Refused(400, "too many consistency proof lines")
    proof = []
    for line in lines[1:]:
        try:
            hash_ = base64.b64decode(line, validate=True)
        except binascii.Error:
            hash_ = b""
        if len(hash_) != transparency.HASH_BYTES:
            raise Refused(400, "a consistency proof line is not a base64 hash")
        proof.append(hash_)
    return Submission(int(old), proof, note)


class Witness:
    """One witness: its key, the logs it follows (origin -> log public key), its store, a clock."""

    def __init__(
        self, *, key: WitnessKey, logs: Mapping[str, bytes], store: Store, clock: Clock
    ) -> None:
        self.key = key
        self.logs = dict(logs)
        self.store = store
        self.clock = clock

    def add_checkpoint(self, body: str) -> str:
        """The cosignature line for the submitted checkpoint, or :class:`Refused`."""
        submission = parse_submission(body)
        origin = submission.note.split("\n", 1)[0]
        log_key = self.logs.get(origin)
        if log_key is None:
            raise Refused(404, "this witness does not follow that log")
        try:
            new = transparency.verify_checkpoint(
                submission.note, origin=origin, log_public_key=log_key
            )
        except ProofInvalid:
            raise Refused(403, "the checkpoint is not signed by the log's key") from None
        if submission.old_size > new.tree_size:
            raise Refused(400, "the old size is larger than the checkpoint's")

        def check(stored: Latest | None) -> None:
            known = stored or Latest(0, transparency.tree_root([]))
            if submission.old_size != known.tree_size:
                raise Refused(
                    409, "the old size is not the last one cosigned", size=known.tree_size
                )
            if known.tree_size == new.tree_size and known.root_hash != new.root_hash:
                # Same size, another root: a fork. Cosigning it would vouch for two logs.
                raise Refused(409, "another root for the size cosigned", size=known.tree_size)
            try:
                transparency.verify_consistency(
                    old_size=known.tree_size,
                    new_size=new.tree_size,
                    old_root=known.root_hash,
                    new_root=new.root_hash,
                    proof=submission.proof,
                )
            except ProofInvalid:
                raise Refused(422, "the consistency proof does not verify") from None

        now = int(self.clock.now().timestamp())
        self.store.advance(
            origin, check, Latest(new.tree_size, new.root_hash), note=submission.note, now=now
        )
        return self._cosign(new, now)

    def _cosign(self, checkpoint: Checkpoint, now: int) -> str:
        return witness.cosign(
            checkpoint, name=self.key.name, witness_signing_seed=self.key.seed, timestamp=now
        )
