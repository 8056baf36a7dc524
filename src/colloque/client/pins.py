"""What a client pins and compares: the log's and the witnesses' keys, taken from its own
configuration (never from the server) and checked at once, and key fingerprints as people read
them aloud."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping

from colloque.crypto.statements import ChainEpoch
from colloque.crypto.transparency import fingerprint


def epoch_fingerprint(epoch: ChainEpoch) -> str:
    return fingerprint([epoch.encryption, epoch.signing])


def same_fingerprint(a: str, b: str) -> bool:
    return "".join(a.split()) == "".join(b.split())


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
