"""The key directory: an append-only RFC 9162 Merkle log of key bindings, signed checkpoints, fingerprints.

Server side (the log): :func:`tree_root`, :func:`inclusion_proof`, :func:`consistency_proof`,
:func:`sign_checkpoint`. Client side: :func:`verify_checkpoint`, :func:`verify_key_binding`,
:func:`verify_checkpoint_consistency`, :func:`fingerprint`, :func:`check_fingerprint`. Every
verification raises; none returns a boolean. Format: docs/crypto.md, section 5.5.

Proof generation recomputes subtree hashes from the leaf hashes (linear in the log size per proof): fine
for a directory of a few hundred thousand keys; a larger log would keep its interior nodes.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from enum import IntEnum
from uuid import UUID

from colloque.crypto import _sodium
from colloque.crypto._encoding import MAX_U32, EnvelopeType, Reader, prefix, u32
from colloque.crypto.errors import (
    InvalidPublicKey,
    MalformedEnvelope,
    ProofInvalid,
    SignatureInvalid,
)

HASH_BYTES = 32
LEAF_BYTES = 56
FINGERPRINT_CONTEXT = b"colloque/fingerprint/v1"
FINGERPRINT_BYTES = 30
SIGNATURE_TYPE_ED25519 = 0x01
MAX_NOTE_CHARS = 16 * 1024
_ORIGIN = re.compile(r"[^\s+\x00-\x1f]+")
_TREE_SIZE = re.compile(r"0|[1-9][0-9]{0,18}")


class SubjectKind(IntEnum):
    USER = 0x01
    GROUP = 0x02


class KeyPurpose(IntEnum):
    ENCRYPTION = 0x01  # X25519
    SIGNING = 0x02  # Ed25519


@dataclass(frozen=True)
class KeyBinding:
    """A public key and whom it belongs to: one leaf of the key directory."""

    subject_kind: SubjectKind
    subject_id: UUID
    purpose: KeyPurpose
    epoch: int
    public_key: bytes

    def __post_init__(self) -> None:
        if len(self.public_key) != 32:
            raise ValueError("a public key is 32 bytes")
        if not 0 <= self.epoch <= MAX_U32:
            raise ValueError("the epoch must fit in 32 bits")

    def to_leaf(self) -> bytes:
        return (
            prefix(EnvelopeType.KEY_BINDING)
            + bytes((self.subject_kind,))
            + self.subject_id.bytes
            + bytes((self.purpose,))
            + u32(self.epoch)
            + self.public_key
        )

    @classmethod
    def from_leaf(cls, leaf: bytes) -> KeyBinding:
        reader = Reader(leaf, EnvelopeType.KEY_BINDING)
        try:
            subject_kind = SubjectKind(reader.u8())
            subject_id = reader.uuid()
            purpose = KeyPurpose(reader.u8())
        except ValueError:
            raise MalformedEnvelope("unknown subject kind or key purpose") from None
        epoch = reader.u32()
        public_key = reader.take(32)
        reader.end()
        return cls(subject_kind, subject_id, purpose, epoch, public_key)

    def leaf_hash(self) -> bytes:
        return leaf_hash(self.to_leaf())


# Merkle tree (RFC 9162, section 2.1) -----------------------------------------------------------------


def leaf_hash(leaf: bytes) -> bytes:
    return _sodium.sha256(b"\x00" + leaf)


def node_hash(left: bytes, right: bytes) -> bytes:
    return _sodium.sha256(b"\x01" + left + right)


def _split(size: int) -> int:
    """The largest power of two smaller than ``size`` (size > 1)."""
    return 1 << ((size - 1).bit_length() - 1)


def _subtree_root(hashes: Sequence[bytes], lo: int, hi: int) -> bytes:
    if hi - lo == 1:
        return hashes[lo]
    k = _split(hi - lo)
    return node_hash(_subtree_root(hashes, lo, lo + k), _subtree_root(hashes, lo + k, hi))


def tree_root(leaf_hashes: Sequence[bytes]) -> bytes:
    """MTH(D[n]) over the leaf hashes; the empty tree's root is SHA-256 of the empty string."""
    if not leaf_hashes:
        return _sodium.sha256(b"")
    return _subtree_root(leaf_hashes, 0, len(leaf_hashes))


def _path(hashes: Sequence[bytes], m: int, lo: int, hi: int) -> list[bytes]:
    if hi - lo == 1:
        return []
    k = _split(hi - lo)
    if m < k:
        return [*_path(hashes, m, lo, lo + k), _subtree_root(hashes, lo + k, hi)]
    return [*_path(hashes, m - k, lo + k, hi), _subtree_root(hashes, lo, lo + k)]


def inclusion_proof(leaf_hashes: Sequence[bytes], index: int) -> list[bytes]:
    """PATH(index, D[n]) of RFC 9162 section 2.1.3.1."""
    if not 0 <= index < len(leaf_hashes):
        raise ValueError("no leaf at this index")
    return _path(leaf_hashes, index, 0, len(leaf_hashes))


def inclusion_proofs(leaf_hashes: Sequence[bytes], indexes: Iterable[int]) -> list[list[bytes]]:
    """PATH for several leaves at once, sharing subtree hashes: O(n + k log n) instead of O(k n)."""
    memo: dict[tuple[int, int], bytes] = {}

    def root(lo: int, hi: int) -> bytes:
        if hi - lo == 1:
            return leaf_hashes[lo]
        cached = memo.get((lo, hi))
        if cached is None:
            k = _split(hi - lo)
            cached = memo[(lo, hi)] = node_hash(root(lo, lo + k), root(lo + k, hi))
        return cached

    def path(m: int, lo: int, hi: int) -> list[bytes]:
        if hi - lo == 1:
            return []
        k = _split(hi - lo)
        if m < k:
            return [*path(m, lo, lo + k), root(lo + k, hi)]
        return [*path(m - k, lo + k, hi), root(lo, lo + k)]

    proofs = []
    for index in indexes:
        if not 0 <= index < len(leaf_hashes):
            raise ValueError("no leaf at this index")
        proofs.append(path(index, 0, len(leaf_hashes)))
    return proofs


def compact_range_append(
    compact: Sequence[tuple[int, bytes]], leaf_hash: bytes
) -> list[tuple[int, bytes]]:
    """Append one leaf hash to a compact range: the (size, root) of the perfect subtrees that make
    up the tree, largest first. Appending costs O(log n) hashes, not a rehash of the log."""
    result = [*compact, (1, leaf_hash)]
    while len(result) >= 2 and result[-1][0] == result[-2][0]:
        (size, left), (_, right) = result[-2], result[-1]
        result[-2:] = [(2 * size, node_hash(left, right))]
    return result


def compact_range_root(compact: Sequence[tuple[int, bytes]]) -> bytes:
    """MTH of the tree a compact range stands for (the same as :func:`tree_root` of its leaves)."""
    if not compact:
        return _sodium.sha256(b"")
    root = compact[-1][1]
    for _size, left in reversed(compact[:-1]):
        root = node_hash(left, root)
    return root


def _subproof(hashes: Sequence[bytes], m: int, lo: int, hi: int, complete: bool) -> list[bytes]:
    if m == hi - lo:
        return [] if complete else [_subtree_root(hashes, lo, hi)]
    k = _split(hi - lo)
    if m <= k:
        return [*_subproof(hashes, m, lo, lo + k, complete), _subtree_root(hashes, lo + k, hi)]
    return [*_subproof(hashes, m - k, lo + k, hi, False), _subtree_root(hashes, lo, lo + k)]


def consistency_proof(leaf_hashes: Sequence[bytes], old_size: int) -> list[bytes]:
    """PROOF(old_size, D[n]) of RFC 9162 section 2.1.4.1 (empty for old_size 0 or n)."""
    if not 0 <= old_size <= len(leaf_hashes):
        raise ValueError("the old size must be between 0 and the tree size")
    if old_size in (0, len(leaf_hashes)):
        return []
    return _subproof(leaf_hashes, old_size, 0, len(leaf_hashes), True)


def _check_hashes(*hashes: bytes) -> None:
    if any(len(h) != HASH_BYTES for h in hashes):
        raise ProofInvalid("a hash is not 32 bytes")


def verify_inclusion(
    *, leaf_hash: bytes, index: int, tree_size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """RFC 9162 section 2.1.3.2. Raises ProofInvalid."""
    _check_hashes(leaf_hash, root, *proof)
    if not 0 <= index < tree_size:
        raise ProofInvalid("leaf index outside the tree")
    fn, sn, r = index, tree_size - 1, leaf_hash
    for p in proof:
        if sn == 0:
            raise ProofInvalid("inclusion proof is too long")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0 or not _sodium.equal(r, root):
        raise ProofInvalid("inclusion proof does not verify")


def verify_consistency(
    *,
    old_size: int,
    new_size: int,
    old_root: bytes,
    new_root: bytes,
    proof: Sequence[bytes],
) -> None:
    """RFC 9162 section 2.1.4.2, with the trivial cases (equal sizes, empty old tree). Raises."""
    _check_hashes(old_root, new_root, *proof)
    if not 0 <= old_size <= new_size:
        raise ProofInvalid("a log never shrinks")
    if old_size == new_size:
        if proof or not _sodium.equal(old_root, new_root):
            raise ProofInvalid("same size, different roots")
        return
    if old_size == 0:
        if proof:
            raise ProofInvalid("the empty tree needs no proof")
        return
    if not proof:
        raise ProofInvalid("consistency proof is empty")
    path = list(proof)
    if old_size & (old_size - 1) == 0:  # an exact power of two
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofInvalid("consistency proof is too long")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0 or not (_sodium.equal(fr, old_root) and _sodium.equal(sr, new_root)):
        raise ProofInvalid("consistency proof does not verify")


# Checkpoints (C2SP tlog-checkpoint, signed-note with Ed25519) ----------------------------------------


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    tree_size: int
    root_hash: bytes

    def __post_init__(self) -> None:
        if not _ORIGIN.fullmatch(self.origin):
            raise ValueError("an origin is non-empty, without spaces, plus signs or controls")
        if not 0 <= self.tree_size < 2**63 or len(self.root_hash) != HASH_BYTES:
            raise ValueError("bad tree size or root hash")

    def note_text(self) -> str:
        """The signed text: origin, tree size, root hash, each line ending in a newline."""
        root = base64.b64encode(self.root_hash).decode("ascii")
        return f"{self.origin}\n{self.tree_size}\n{root}\n"


def note_key_id(name: str, public_key: bytes) -> bytes:
    """C2SP signed-note key ID: SHA-256(name || 0x0A || 0x01 || public key)[:4]."""
    return _sodium.sha256(
        name.encode("utf-8") + b"\n" + bytes((SIGNATURE_TYPE_ED25519,)) + public_key
    )[:4]


def log_public_key(log_signing_seed: bytes) -> bytes:
    """The log's Ed25519 public key, which clients pin, from its 32-byte signing seed."""
    return _sodium.ed25519_keypair_from_seed(log_signing_seed)[0]


def new_log_seed() -> bytes:
    """A fresh 32-byte Ed25519 seed for a log's signing key."""
    return _sodium.random_bytes(32)


def sign_with_seed(message: bytes, *, seed: bytes) -> bytes:
    """The 64-byte Ed25519 signature of ``message`` by the key of a 32-byte seed."""
    return _sodium.ed25519_sign(message, _sodium.ed25519_keypair_from_seed(seed)[1])


def signed_note(
    checkpoint: Checkpoint, *, public_key: bytes, sign: Callable[[bytes], bytes]
) -> str:
    """The checkpoint as a signed note whose signature ``sign`` makes (a key file, or a token that
    never lets its key out); the line's key ID names ``public_key``. The signature is checked
    before the note is returned, so a signer holding another key fails here, not at a verifier."""
    text = checkpoint.note_text()
    signature = sign(text.encode("utf-8"))
    try:
        _sodium.ed25519_verify(signature, text.encode("utf-8"), public_key)
    except SignatureInvalid:
        raise ProofInvalid("the signer's signature does not verify with its public key") from None
    key_id = note_key_id(checkpoint.origin, public_key)
    encoded = base64.b64encode(key_id + signature).decode("ascii")
    return f"{text}\n\u2014 {checkpoint.origin} {encoded}\n"


def sign_checkpoint(checkpoint: Checkpoint, *, log_signing_seed: bytes) -> str:
    """The log: the checkpoint as a signed note, signed by the log's Ed25519 key (name = origin)."""
    public, secret = _sodium.ed25519_keypair_from_seed(log_signing_seed)
    text = checkpoint.note_text()
    signature = _sodium.ed25519_sign(text.encode("utf-8"), secret)
    encoded = base64.b64encode(note_key_id(checkpoint.origin, public) + signature).decode("ascii")
    return f"{text}\n\u2014 {checkpoint.origin} {encoded}\n"


def _parse_note(note: str) -> tuple[str, list[tuple[str, str]]]:
    if len(note) > MAX_NOTE_CHARS or any(ch < " " and ch != "\n" for ch in note):
        raise ProofInvalid("malformed note")
    split = note.rfind("\n\n")
    if split < 0 or not note.endswith("\n"):
        raise ProofInvalid("malformed note")
    text, signature_block = note[: split + 1], note[split + 2 :]
    signatures = []
    for line in signature_block[:-1].split("\n"):
        parts = line.split(" ")
        if len(parts) != 3 or parts[0] != "\u2014" or not parts[1] or not parts[2]:
            raise ProofInvalid("malformed signature line")
        signatures.append((parts[1], parts[2]))
    return text, signatures


def _parse_checkpoint_text(text: str) -> Checkpoint:
    lines = text[:-1].split("\n")
    if len(lines) != 3 or not _TREE_SIZE.fullmatch(lines[1]):
        raise ProofInvalid("malformed checkpoint")
    try:
        root = base64.b64decode(lines[2], validate=True)
        checkpoint = Checkpoint(lines[0], int(lines[1]), root)
    except (binascii.Error, ValueError):
        raise ProofInvalid("malformed checkpoint") from None
    if checkpoint.note_text() != text:  # non-canonical base64
        raise ProofInvalid("malformed checkpoint")
    return checkpoint


def verify_checkpoint(note: str, *, origin: str, log_public_key: bytes) -> Checkpoint:
    """Client: the checkpoint, if ``note`` carries a valid signature by the log's key. Raises otherwise.

    Signature lines from other keys (witnesses) are ignored; a line from the log's key that does not
    verify rejects the note, as does a note without one, or a checkpoint for another origin.
    """
    text, signatures = _parse_note(note)
    key_id = note_key_id(origin, log_public_key)
    verified = False
    for name, encoded in signatures:
        try:
            raw = base64.b64decode(encoded, validate=True)
        except binascii.Error:
            raise ProofInvalid("malformed signature line") from None
        if name != origin or raw[:4] != key_id:
            continue
        try:
            _sodium.ed25519_verify(raw[4:], text.encode("utf-8"), log_public_key)
        except SignatureInvalid:
            raise ProofInvalid("checkpoint signature does not verify") from None
        verified = True
    if not verified:
        raise ProofInvalid("no signature by the log's key")
    checkpoint = _parse_checkpoint_text(text)
    if checkpoint.origin != origin:
        raise ProofInvalid("checkpoint of another log")
    return checkpoint


def verify_key_binding(
    binding: KeyBinding, *, leaf_index: int, proof: Sequence[bytes], checkpoint: Checkpoint
) -> None:
    """Client: raise unless ``binding`` is in the log that ``checkpoint`` (already verified) commits to."""
    verify_inclusion(
        leaf_hash=binding.leaf_hash(),
        index=leaf_index,
        tree_size=checkpoint.tree_size,
        proof=proof,
        root=checkpoint.root_hash,
    )


def verify_checkpoint_consistency(old: Checkpoint, new: Checkpoint, proof: Sequence[bytes]) -> None:
    """Client: raise unless ``new`` extends ``old`` (the log only grew)."""
    if old.origin != new.origin:
        raise ProofInvalid("checkpoints of different logs")
    verify_consistency(
        old_size=old.tree_size,
        new_size=new.tree_size,
        old_root=old.root_hash,
        new_root=new.root_hash,
        proof=proof,
    )


# Fingerprints ------------------------------------------------------------------------------------------


def fingerprint(bindings: Iterable[KeyBinding]) -> str:
    """Thirty digits in 6 groups of 5 for people to compare in person (about 100 bits)."""
    leaves = sorted(binding.to_leaf() for binding in bindings)
    if not leaves:
        raise ValueError("a fingerprint needs at least one key")
    digest = _sodium.blake2b(FINGERPRINT_CONTEXT + b"".join(leaves), length=FINGERPRINT_BYTES)
    groups = (int.from_bytes(digest[i : i + 5], "big") % 100_000 for i in range(0, 30, 5))
    return " ".join(f"{group:05d}" for group in groups)


def check_fingerprint(bindings: Iterable[KeyBinding], shown: str) -> None:
    """Raise InvalidPublicKey unless ``shown`` (as read out, any spacing) is the keys' fingerprint."""
    expected = fingerprint(bindings).replace(" ", "")
    if not _sodium.equal("".join(shown.split()).encode(), expected.encode()):
        raise InvalidPublicKey("fingerprints differ")
