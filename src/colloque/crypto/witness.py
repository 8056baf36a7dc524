"""Witness cosignatures over key directory checkpoints (C2SP tlog-cosignature, Ed25519 type).

A witness keeps, per log, the largest checkpoint it has verified to extend the previous one, and
signs each new one. A client that requires cosignatures from k independent witnesses cannot be
shown a fork or a rollback unless k witnesses collude with the log operator (docs/crypto.md,
section 5.13).

Witness side: :func:`witness_public_key`, :func:`cosign`. Client side:
:func:`verify_cosignature`, :func:`verify_witnessed_checkpoint`. Verification raises ProofInvalid;
it never returns a boolean.
"""

from __future__ import annotations

import base64
import binascii
import struct
from collections.abc import Mapping
from dataclasses import dataclass

from colloque.crypto import _sodium
from colloque.crypto.errors import ProofInvalid, SignatureInvalid
from colloque.crypto.transparency import Checkpoint, _parse_note, verify_checkpoint

#: The signed-note signature type of Ed25519 cosignatures (tlog-cosignature), in the key ID.
COSIGNATURE_TYPE_ED25519 = 0x04
COSIGNATURE_HEADER = "cosignature/v1"
KEY_ID_BYTES = 4
TIMESTAMP_BYTES = 8
SIGNATURE_BYTES = 64
COSIGNATURE_BYTES = KEY_ID_BYTES + TIMESTAMP_BYTES + SIGNATURE_BYTES
MAX_TIMESTAMP = 2**63 - 1


def cosignature_key_id(name: str, public_key: bytes) -> bytes:
    """SHA-256(name || 0x0A || 0x04 || public key)[:4]: distinct from the same key's note key ID."""
    return _sodium.sha256(
        name.encode("utf-8") + b"\n" + bytes((COSIGNATURE_TYPE_ED25519,)) + public_key
    )[:KEY_ID_BYTES]


def new_witness_seed() -> bytes:
    """A fresh 32-byte Ed25519 seed for a witness's key."""
    return _sodium.random_bytes(32)


def witness_public_key(witness_signing_seed: bytes) -> bytes:
    """The witness's Ed25519 public key, which clients and the server configure."""
    return _sodium.ed25519_keypair_from_seed(witness_signing_seed)[0]


def cosigned_message(checkpoint: Checkpoint, timestamp: int) -> bytes:
    """What a cosignature signs: the header line, the time line, then the checkpoint body."""
    if not 0 <= timestamp <= MAX_TIMESTAMP:
        raise ValueError("a cosignature timestamp is between 0 and 2^63 - 1")
    header = f"{COSIGNATURE_HEADER}\ntime {timestamp}\n"
    return (header + checkpoint.note_text()).encode("utf-8")


def cosign(
    checkpoint: Checkpoint, *, name: str, witness_signing_seed: bytes, timestamp: int
) -> str:
    """The witness: a cosignature line (``— name base64``, newline-terminated) for a checkpoint it
    has verified. ``timestamp`` is POSIX seconds, from the caller's clock."""
    if not name or any(ch.isspace() or ch == "+" for ch in name):
        raise ValueError("a witness name is non-empty, without spaces or plus signs")
    public, secret = _sodium.ed25519_keypair_from_seed(witness_signing_seed)
    signature = _sodium.ed25519_sign(cosigned_message(checkpoint, timestamp), secret)
    raw = cosignature_key_id(name, public) + struct.pack(">Q", timestamp) + signature
    return f"\u2014 {name} {base64.b64encode(raw).decode('ascii')}\n"


@dataclass(frozen=True)
class Cosignature:
    """A verified cosignature: who signed, and when they say they did."""

    name: str
    timestamp: int


def verify_cosignature(
    checkpoint: Checkpoint, *, name: str, public_key: bytes, encoded: str
) -> Cosignature:
    """Raise unless ``encoded`` (the base64 of a signature line named ``name``) is a cosignature of
    ``checkpoint`` by the witness key ``public_key``."""
    try:
        raw = base64.b64decode(encoded, validate=True)
    except binascii.Error:
        raise ProofInvalid("malformed cosignature") from None
    if len(raw) != COSIGNATURE_BYTES or raw[:KEY_ID_BYTES] != cosignature_key_id(name, public_key):
        raise ProofInvalid("not a cosignature by this witness key")
    (timestamp,) = struct.unpack(">Q", raw[KEY_ID_BYTES : KEY_ID_BYTES + TIMESTAMP_BYTES])
    if timestamp > MAX_TIMESTAMP:
        raise ProofInvalid("cosignature timestamp out of range")
    try:
        _sodium.ed25519_verify(
            raw[KEY_ID_BYTES + TIMESTAMP_BYTES :],
            cosigned_message(checkpoint, timestamp),
            public_key,
        )
    except SignatureInvalid:
        raise ProofInvalid("cosignature does not verify") from None
    return Cosignature(name, timestamp)


def verify_witnessed_checkpoint(
    note: str,
    *,
    origin: str,
    log_public_key: bytes,
    witnesses: Mapping[str, bytes],
    threshold: int,
    not_before: int = 0,
) -> Checkpoint:
    """Client: the checkpoint, if ``note`` is signed by the log and cosigned by at least
    ``threshold`` distinct witnesses among ``witnesses`` (name -> Ed25519 public key), each
    cosignature made at ``not_before`` (POSIX seconds) or later.

    Lines from keys not configured here, and cosignatures that do not verify, are not counted
    (a server may carry cosignatures for other clients' witnesses); only the count decides.
    A threshold of 0 is the log's signature alone. A v1 cosignature says "as of this time, this
    is the largest tree I have seen": ``not_before`` turns that into "... and that was recently",
    which an old, rolled-back checkpoint cannot show.
    """
    if not 0 <= threshold <= len(witnesses):
        raise ValueError("the threshold must be between 0 and the number of witnesses")
    checkpoint = verify_checkpoint(note, origin=origin, log_public_key=log_public_key)
    if threshold == 0:
        return checkpoint
    _text, signatures = _parse_note(note)
    cosigned: set[str] = set()
    for name, encoded in signatures:
        public_key = witnesses.get(name)
        if public_key is None or name in cosigned:
            continue
        try:
            found = verify_cosignature(
                checkpoint, name=name, public_key=public_key, encoded=encoded
            )
        except ProofInvalid:
            continue
        if found.timestamp >= not_before:
            cosigned.add(name)
    if len(cosigned) < threshold:
        raise ProofInvalid("too few witnesses cosigned this checkpoint")
    return checkpoint
