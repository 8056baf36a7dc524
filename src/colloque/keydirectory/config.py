"""The log's signing key and its origin, from the settings.

The seed is its own setting (``COLLOQUE_KEY_DIRECTORY_LOG_KEY``), not derived from
COLLOQUE_SECRET_KEY: every process of one deployment signs with the same key, nothing about it is
stored, and rotating the server secret leaves it alone. Changing it changes the log's key, which
every client has pinned: treat that as a new log (docs/crypto.md, section 5.5).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from colloque.config import Settings
from colloque.crypto.transparency import Checkpoint, log_public_key, sign_checkpoint


@dataclass(frozen=True)
class LogKey:
    """A :class:`~colloque.keydirectory.interfaces.LogSigner` from a secret seed."""

    origin: str
    seed: bytes = field(repr=False)
    public_key: bytes = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "public_key", log_public_key(self.seed))

    @classmethod
    def from_settings(cls, settings: Settings) -> LogKey:
        return cls(origin=settings.key_directory_origin, seed=settings.log_signing_seed)

    def sign(self, checkpoint: Checkpoint) -> str:
        return sign_checkpoint(checkpoint, log_signing_seed=self.seed)


@dataclass(frozen=True)
class CosignedLogKey(LogKey):
    """The log key of a deployment with witnesses: the notes it serves (``signed_checkpoint``)
    carry the stored cosignatures of their size, so that clients requiring witnesses can check
    any of them, the practice key groups' included."""
