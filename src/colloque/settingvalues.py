"""Settings written as text, parsed: a key seed in hex or base64, and the key directory's
witnesses (``name=<public key base64>@<url>``). Pure; ``colloque.config`` validates with these."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

LOG_SEED_BYTES = 32
WITNESS_KEY_BYTES = 32


def seed_of(text: str, size: int = 32) -> bytes | None:
    """``size`` bytes written in hex (2 digits a byte) or base64 (standard or URL-safe, padding
    optional); None for anything else, which each caller names in its own words."""
    text = text.strip()
    try:
        if len(text) == 2 * size:
            seed = bytes.fromhex(text)
        else:
            padded = text.replace("-", "+").replace("_", "/") + "=" * (-len(text) % 4)
            seed = base64.b64decode(padded, validate=True)
    except (ValueError, binascii.Error):
        return None
    return seed if len(seed) == size else None


def decode_log_seed(text: str) -> bytes:
    """The key directory log's seed (``COLLOQUE_KEY_DIRECTORY_LOG_KEY``)."""
    seed = seed_of(text, LOG_SEED_BYTES)
    if seed is None:
        raise ValueError(
            f"COLLOQUE_KEY_DIRECTORY_LOG_KEY must be {LOG_SEED_BYTES} random bytes in hex or base64"
        )
    return seed


@dataclass(frozen=True)
class WitnessEntry:
    """One key directory witness the server submits checkpoints to."""

    name: str
    public_key: bytes
    url: str


def parse_witnesses(text: str) -> list[WitnessEntry]:
    """``name=<public key base64>@<url>`` entries, separated by commas or whitespace."""
    entries = []
    for entry in text.replace(",", " ").split():
        name, _, rest = entry.partition("=")
        key_text, _, url = rest.partition("@")
        try:
            key = base64.b64decode(key_text, validate=True)
        except binascii.Error:
            key = b""
        if not name or len(key) != WITNESS_KEY_BYTES or not url.startswith(("http://", "https://")):
            raise ValueError(
                "COLLOQUE_KEY_DIRECTORY_WITNESSES entries are name=<public key base64>@<url>"
            )
        entries.append(WitnessEntry(name, key, url.rstrip("/")))
    if len({entry.name for entry in entries}) != len(entries):
        raise ValueError("COLLOQUE_KEY_DIRECTORY_WITNESSES names a witness twice")
    return entries
