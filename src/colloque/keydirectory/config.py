"""The log's signing key, derived from COLLOQUE_SECRET_KEY, and its origin, from the settings.

The seed is HMAC-SHA256 of a fixed label under the deployment secret, as the accounts module
derives its keys: every process of one deployment signs with the same key, and nothing about it
is stored. Rotating the secret changes the log's key, which every client has pinned: treat that
as a new log (docs/crypto.md, section 5.5).
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field

from colloque.config import Settings
from colloque.crypto.transparency import Checkpoint, log_public_key, sign_checkpoint

_LABEL = b"colloque/key-directory/log-signing/v1"


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
        secret = settings.secret_key.get_secret_value().encode("utf-8")
        seed = hmac.new(secret, _LABEL, hashlib.sha256).digest()
        return cls(origin=settings.key_directory_origin, seed=seed)

    def sign(self, checkpoint: Checkpoint) -> str:
        return sign_checkpoint(checkpoint, log_signing_seed=self.seed)
