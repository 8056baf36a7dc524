"""The witness's Ed25519 key: its seed from the environment, or from a file made at first start."""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass, field
from pathlib import Path

from colloque.crypto import witness
from colloque.settingvalues import seed_of

SEED_BYTES = 32
SEED_FILE = "witness-key"


class WitnessKeyError(Exception):
    """The witness's key cannot be read or made; the message says why."""


def decode_seed(text: str) -> bytes:
    """32 bytes in hex (64 digits) or base64 (standard or URL-safe, padding optional)."""
    seed = seed_of(text, SEED_BYTES)
    if seed is None:
        raise WitnessKeyError(f"the witness key must be {SEED_BYTES} random bytes in hex or base64")
    return seed


def load_or_create_seed(data_dir: Path, given: str | None = None) -> bytes:
    """The seed ``given`` (``COLLOQUE_WITNESS_KEY``), else from ``DIR/witness-key``, made (0600) if
    absent."""
    if given:
        return decode_seed(given)
    path = data_dir / SEED_FILE
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        # O_EXCL: two witnesses started at once on one directory never overwrite each other's key.
        handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        try:
            return decode_seed(path.read_text(encoding="ascii"))
        except (OSError, UnicodeDecodeError) as error:
            raise WitnessKeyError(f"cannot read the witness key {path}: {error}") from None
    except OSError as error:
        raise WitnessKeyError(f"cannot make the witness key in {data_dir}: {error}") from None
    seed = witness.new_witness_seed()
    with os.fdopen(handle, "w", encoding="ascii") as out:
        out.write(seed.hex() + "\n")
    return seed


@dataclass(frozen=True)
class WitnessKey:
    name: str
    seed: bytes = field(repr=False)
    public_key: bytes = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "public_key", witness.witness_public_key(self.seed))

    def config_line(self) -> str:
        """What a deployment puts in COLLOQUE_KEY_DIRECTORY_WITNESSES, before ``@<url>``."""
        return f"{self.name}={base64.b64encode(self.public_key).decode('ascii')}"
