"""The client's view of the key directory: trust no key the log does not vouch for.

:class:`KeyDirectory` pins the log's origin and public key (from configuration, not from the
server). It keeps the largest checkpoint it has verified; every newer checkpoint must carry the
log's signature and be consistent with it (an RFC 9162 consistency proof fetched from the
server), and every key binding must be included in a verified checkpoint before it is used.
A server that substitutes a key, rewrites the log or shows an older view is caught here
(docs/crypto.md, sections 5.5 and 5.8).

The largest verified checkpoint is kept in the client state (section "checkpoints", by origin,
with the log key it was verified with), so a new process starts from it rather than trusting the
first signed log it is shown. With witnesses pinned too, every checkpoint must carry ``threshold``
cosignatures from them (docs/crypto.md, section 5.12).
"""

from __future__ import annotations

import base64
import binascii
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from uuid import UUID

from colloque.client.encoding import b64, unb64
from colloque.client.state import MemoryState
from colloque.clock import Clock, SystemClock
from colloque.crypto.errors import ProofInvalid
from colloque.crypto.transparency import (
    Checkpoint,
    KeyBinding,
    KeyPurpose,
    SubjectKind,
    fingerprint,
    verify_checkpoint,
    verify_checkpoint_consistency,
    verify_key_binding,
)
from colloque.crypto.witness import verify_witnessed_checkpoint

Json = dict[str, Any]
#: GET a path of the API and return its JSON body.
Fetch = Callable[[str], Any]


@dataclass(frozen=True)
class SubjectKeys:
    """A subject's current keys, each proven in the log, and the fingerprint computed here."""

    bindings: dict[KeyPurpose, KeyBinding]
    fingerprint: str


#: The log's Ed25519 public key.
LOG_KEY_BYTES = 32


def pinned_log_key(origin: object, log_public_key: object) -> bytes:
    """The log key to pin, from bytes or base64 text (standard or URL-safe, padded or not).

    Refuses at once what cannot be a pinned log: a non-text origin or an empty one, a key that
    is neither bytes nor text (TypeError), text that is not base64 or a key that is not 32 bytes
    (ValueError).
    """
    if not isinstance(origin, str):
        raise TypeError(f"origin must be str, not {type(origin).__name__}")
    if not origin.strip():
        raise ValueError("origin must not be empty")
    if isinstance(log_public_key, str):
        text = "".join(log_public_key.split()).replace("-", "+").replace("_", "/")
        try:
            key = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
        except binascii.Error:
            raise ValueError("log_public_key is not base64 text") from None
    elif isinstance(log_public_key, bytes | bytearray):
        key = bytes(log_public_key)
    else:
        raise TypeError(
            f"log_public_key must be bytes or base64 str, not {type(log_public_key).__name__}"
        )
    if len(key) != LOG_KEY_BYTES:
        raise ValueError(f"log_public_key must be {LOG_KEY_BYTES} bytes, not {len(key)}")
    return key


def pinned_witnesses(witnesses: Mapping[str, object], threshold: object) -> dict[str, bytes]:
    """The witness keys to pin (name -> key, as :func:`pinned_log_key` takes them); refuses a
    threshold that is not an integer between 0 and the number of witnesses."""
    keys = {name: pinned_log_key(name, key) for name, key in witnesses.items()}
    if not isinstance(threshold, int) or isinstance(threshold, bool):
        raise TypeError(f"threshold must be int, not {type(threshold).__name__}")
    if not 0 <= threshold <= len(keys):
        raise ValueError(f"threshold must be between 0 and {len(keys)} (the witnesses pinned)")
    return keys


#: The client state's section of verified checkpoints, by log origin.
CHECKPOINTS = "checkpoints"


class KeyDirectory:
    def __init__(
        self,
        fetch: Fetch,
        *,
        origin: str,
        log_public_key: bytes,
        state: MemoryState | None = None,
        witnesses: Mapping[str, bytes] | None = None,
        threshold: int = 0,
        witness_max_age: timedelta | None = None,
        clock: Clock | None = None,
    ) -> None:
        self._fetch = fetch
        self.origin = origin
        self.log_public_key = log_public_key
        self.witnesses = dict(witnesses or {})
        self.threshold = threshold
        #: Cosignatures older than this are not counted: a rolled-back checkpoint only has old ones.
        self.witness_max_age = witness_max_age
        self._clock = clock or SystemClock()
        self._state = state if state is not None else MemoryState()
        #: The largest checkpoint verified so far (``None`` before the first, in any process
        #: that shared this state).
        self.checkpoint: Checkpoint | None = self._remembered()

    def _remembered(self) -> Checkpoint | None:
        saved = self._state.get(CHECKPOINTS, self.origin)
        if saved is None:
            return None
        if unb64(saved["log_public_key"]) != self.log_public_key:
            # Another key for a log this device already trusts: a new log, or an attacker's.
            raise ProofInvalid("the client state has this log under another key")
        # Witness cosignatures were checked when it was saved; the log's signature still binds it.
        return verify_checkpoint(
            saved["note"], origin=self.origin, log_public_key=self.log_public_key
        )

    def _not_before(self) -> int:
        if self.witness_max_age is None:
            return 0
        return max(0, math.floor((self._clock.now() - self.witness_max_age).timestamp()))

    def accept_checkpoint(self, note: str) -> Checkpoint:
        """Verify ``note``'s signatures (the log's, and the witnesses' when pinned) and its
        consistency with the last checkpoint seen; remember it if it is larger."""
        new = verify_witnessed_checkpoint(
            note,
            origin=self.origin,
            log_public_key=self.log_public_key,
            witnesses=self.witnesses,
            threshold=self.threshold,
            not_before=self._not_before(),
        )
        old = self.checkpoint
        if old is not None:
            proof: list[bytes] = []
            if old.tree_size < new.tree_size:
                answer = self._fetch(
                    f"/api/v1/key-directory/consistency?from={old.tree_size}&to={new.tree_size}"
                )
                proof = [unb64(h) for h in answer["proof"]]
            # An older checkpoint is refused here too: a log never shrinks.
            verify_checkpoint_consistency(old, new, proof)
        if old is None or new.tree_size > old.tree_size:
            self._state.put(
                CHECKPOINTS,
                self.origin,
                {"log_public_key": b64(self.log_public_key), "note": note},
            )
        self.checkpoint = new
        return new

    def refresh(self) -> Checkpoint:
        """Fetch the log head; its origin and key must be the pinned ones."""
        head = self._fetch("/api/v1/key-directory")
        if head["origin"] != self.origin or unb64(head["public_key"]) != self.log_public_key:
            raise ProofInvalid("the server names another log")
        return self.accept_checkpoint(head["signed_checkpoint"])

    def verify_binding(
        self,
        out: Json,
        *,
        note: str,
        subject_kind: SubjectKind,
        subject_id: UUID,
        purpose: KeyPurpose | None = None,
    ) -> KeyBinding:
        """A binding as the server sent it (``BindingOut``), once proven against ``note``.

        The leaf itself is what is proven; the binding must be of the subject (and purpose)
        asked for, so a proven key of somebody else is refused too.
        """
        checkpoint = self.accept_checkpoint(note)
        binding = KeyBinding.from_leaf(unb64(out["leaf"]))
        if (binding.subject_kind, binding.subject_id) != (subject_kind, subject_id) or (
            purpose is not None and binding.purpose is not purpose
        ):
            raise ProofInvalid("a key of another subject")
        if out["tree_size"] != checkpoint.tree_size:
            raise ProofInvalid("the proof is for another checkpoint")
        verify_key_binding(
            binding,
            leaf_index=out["leaf_index"],
            proof=[unb64(h) for h in out["inclusion_proof"]],
            checkpoint=checkpoint,
        )
        return binding

    def _subject(self, path: str, kind: SubjectKind, subject_id: UUID) -> SubjectKeys:
        answer = self._fetch(path)
        bindings = {}
        for out in answer["bindings"]:
            binding = self.verify_binding(
                out, note=answer["signed_checkpoint"], subject_kind=kind, subject_id=subject_id
            )
            bindings[binding.purpose] = binding
        return SubjectKeys(bindings, fingerprint(bindings.values()))

    def user_keys(self, user_id: UUID) -> SubjectKeys:
        """A user's encryption and signing keys, proven; their fingerprint, computed here."""
        return self._subject(f"/api/v1/key-directory/users/{user_id}", SubjectKind.USER, user_id)

    def practice_key(self, practice_id: UUID) -> KeyBinding:
        """A practice group's current encryption key, proven."""
        keys = self._subject(
            f"/api/v1/key-directory/practices/{practice_id}", SubjectKind.GROUP, practice_id
        )
        return keys.bindings[KeyPurpose.ENCRYPTION]
