"""Vectors of witness cosignatures (docs/crypto.md sections 5.11 and 8): ``cosignatures.json``.

Fixed inputs as in :mod:`tests.unit.crypto.vectors`: the log key of transparency.json, two witness
seeds, fixed timestamps. ``python -m tests.unit.crypto.vectors_witness`` writes the file; the unit
test regenerates it byte for byte. Ed25519 is deterministic, so nothing random is involved.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from colloque.crypto import transparency, witness
from colloque.crypto.transparency import Checkpoint
from tests.unit.crypto.vectors import LOG_ORIGIN, VECTORS, dump, seq

LOG_SEED = seq(0xB0)
WITNESSES = {
    "witness.example/alpha": seq(0x40),
    "witness.example/beta": seq(0x60),
}
TIMESTAMPS = (1_780_000_000, 1_780_000_123)
CHECKPOINT = Checkpoint(LOG_ORIGIN, 7, hashlib.sha256(b"colloque cosignature vector").digest())
#: A log of the same size with another root: what a fork looks like to a witness.
FORKED = Checkpoint(LOG_ORIGIN, 7, hashlib.sha256(b"another log of the same size").digest())


def _swap_line(note: str, index: int, line: str) -> str:
    """``note`` with its signature line ``index`` (0 is the log's) replaced by ``line``."""
    text, block = note.split("\n\n", 1)
    lines = block.splitlines()
    lines[index] = line
    return text + "\n\n" + "\n".join(lines) + "\n"


def _flip_signature(line: str, byte: int) -> str:
    dash, name, encoded = line.rstrip("\n").split(" ")
    raw = bytearray(base64.b64decode(encoded))
    raw[byte] ^= 0x01
    return f"{dash} {name} {base64.b64encode(bytes(raw)).decode('ascii')}"


def cosignature_vectors() -> dict[str, Any]:
    signed = transparency.sign_checkpoint(CHECKPOINT, log_signing_seed=LOG_SEED)
    witnesses = []
    lines = []
    for (name, seed), timestamp in zip(WITNESSES.items(), TIMESTAMPS, strict=True):
        public = witness.witness_public_key(seed)
        line = witness.cosign(CHECKPOINT, name=name, witness_signing_seed=seed, timestamp=timestamp)
        lines.append(line)
        witnesses.append(
            {
                "name": name,
                "ed25519_seed": seed.hex(),
                "public_key": base64.b64encode(public).decode("ascii"),
                "key_id": witness.cosignature_key_id(name, public).hex(),
                "timestamp": timestamp,
                "signed_message": witness.cosigned_message(CHECKPOINT, timestamp).decode(),
                "cosignature_line": line,
            }
        )
    cosigned = signed + "".join(lines)
    forked_signed = transparency.sign_checkpoint(FORKED, log_signing_seed=LOG_SEED)
    alpha, beta = (line.rstrip("\n") for line in lines)
    refused = {
        "only one witness for a threshold of 2": signed + lines[0],
        "the same witness twice": signed + lines[0] + lines[0],
        "a flipped bit in a signature": _swap_line(cosigned, 2, _flip_signature(beta, 20)),
        "a flipped bit in a timestamp": _swap_line(cosigned, 1, _flip_signature(alpha, 11)),
        "a flipped bit in a key id": _swap_line(cosigned, 1, _flip_signature(alpha, 0)),
        "cosignatures moved to a forked checkpoint": forked_signed + "".join(lines),
        "a witness line under another witness's name": _swap_line(
            cosigned, 2, beta.replace("witness.example/beta", "witness.example/alpha")
        ),
    }
    return {
        "source": "Ours (colloque.crypto.witness), following C2SP tlog-cosignature v1 (Ed25519 "
        "cosignatures, signature type 0x04) over a C2SP tlog-checkpoint signed by the log key "
        "of transparency.json. Key ID = SHA-256(name || 0x0a || 0x04 || public key)[:4]; a line "
        "is base64(key ID || u64 big-endian timestamp || Ed25519 signature of signed_message).",
        "origin": LOG_ORIGIN,
        "log_ed25519_seed": LOG_SEED.hex(),
        "log_public_key": base64.b64encode(transparency.log_public_key(LOG_SEED)).decode("ascii"),
        "checkpoint": signed,
        "witnesses": witnesses,
        "threshold": 2,
        "cosigned_checkpoint": cosigned,
        "refused": [{"case": case, "note": note} for case, note in refused.items()],
    }


GENERATED = {"cosignatures": cosignature_vectors}


def main() -> None:
    for name, generate in GENERATED.items():
        (VECTORS / f"{name}.json").write_text(dump(generate()), encoding="utf-8")


if __name__ == "__main__":
    main()
