"""The key directory: Merkle log, checkpoints, substituted keys, fingerprints."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import uuid

import pytest

from colloque.crypto import _sodium, transparency
from colloque.crypto.errors import InvalidPublicKey, MalformedEnvelope, ProofInvalid
from colloque.crypto.transparency import Checkpoint, KeyBinding, KeyPurpose, SubjectKind
from tests.unit.crypto.helpers import flip, new_user

ORIGIN = "colloque.example/key-directory"
LOG_SEED = bytes(range(32))
LOG_PUBLIC = _sodium.ed25519_keypair_from_seed(LOG_SEED)[0]


def reference_root(leaves: list[bytes]) -> bytes:
    """RFC 9162 MTH written out naively from its definition, over leaf data: an independent check."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return hashlib.sha256(b"\x00" + leaves[0]).digest()
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    left, right = reference_root(leaves[:k]), reference_root(leaves[k:])
    return hashlib.sha256(b"\x01" + left + right).digest()


LEAVES = [f"leaf {i}".encode() for i in range(40)]
HASHES = [transparency.leaf_hash(leaf) for leaf in LEAVES]


@dataclasses.dataclass(frozen=True)
class Inclusion:
    leaf_hash: bytes
    index: int
    tree_size: int
    proof: list[bytes]
    root: bytes

    def verify(self) -> None:
        transparency.verify_inclusion(
            leaf_hash=self.leaf_hash,
            index=self.index,
            tree_size=self.tree_size,
            proof=self.proof,
            root=self.root,
        )


@dataclasses.dataclass(frozen=True)
class Consistency:
    old_size: int
    new_size: int
    old_root: bytes
    new_root: bytes
    proof: list[bytes]

    def verify(self) -> None:
        transparency.verify_consistency(
            old_size=self.old_size,
            new_size=self.new_size,
            old_root=self.old_root,
            new_root=self.new_root,
            proof=self.proof,
        )


def flipped_elements(proof: list[bytes], mask: int) -> list[list[bytes]]:
    return [[*proof[:i], flip(proof[i], 0, mask), *proof[i + 1 :]] for i in range(len(proof))]


@pytest.mark.parametrize("size", range(41))
def test_roots_match_the_naive_definition(size: int) -> None:
    assert transparency.tree_root(HASHES[:size]) == reference_root(LEAVES[:size])


@pytest.mark.parametrize("size", [1, 2, 3, 5, 8, 13, 32, 33, 40])
def test_every_inclusion_proof_verifies_and_every_corruption_fails(size: int) -> None:
    hashes, root = HASHES[:size], reference_root(LEAVES[:size])
    other_root = reference_root(LEAVES[: size - 1])
    for index in range(size):
        proof = transparency.inclusion_proof(hashes, index)
        good = Inclusion(hashes[index], index, size, proof, root)
        good.verify()
        bad = [
            dataclasses.replace(good, index=index + 1),
            dataclasses.replace(good, index=index ^ 2),
            dataclasses.replace(good, index=index - 1),
            dataclasses.replace(good, tree_size=size * 2),
            dataclasses.replace(good, tree_size=size // 2),
            dataclasses.replace(good, leaf_hash=HASHES[(index + 1) % 40]),
            dataclasses.replace(good, root=other_root),
            dataclasses.replace(good, proof=[*proof, root]),
            dataclasses.replace(good, proof=[root, *proof]),
            dataclasses.replace(good, proof=proof[:-1] if proof else [root]),
            *(dataclasses.replace(good, proof=p) for p in flipped_elements(proof, 8)),
        ]
        for corrupted in bad:
            with pytest.raises(ProofInvalid):
                corrupted.verify()


@pytest.mark.parametrize("new_size", [1, 2, 3, 4, 5, 7, 8, 9, 16, 17, 40])
def test_every_consistency_proof_verifies_and_every_corruption_fails(new_size: int) -> None:
    new_root = reference_root(LEAVES[:new_size])
    for old_size in range(new_size + 1):
        old_root = reference_root(LEAVES[:old_size])
        proof = transparency.consistency_proof(HASHES[:new_size], old_size)
        good = Consistency(old_size, new_size, old_root, new_root, proof)
        good.verify()
        if not proof:
            continue
        bad = [
            dataclasses.replace(good, old_size=old_size - 1),
            dataclasses.replace(good, old_size=old_size + 1),
            dataclasses.replace(good, new_size=new_size * 2),
            dataclasses.replace(good, new_size=new_size // 2),
            dataclasses.replace(good, old_root=new_root),
            dataclasses.replace(good, new_root=old_root),
            dataclasses.replace(good, proof=[]),
            dataclasses.replace(good, proof=proof[:-1]),
            dataclasses.replace(good, proof=[*proof, old_root]),
            dataclasses.replace(good, proof=[proof[0], *proof]),
            *(dataclasses.replace(good, proof=p) for p in flipped_elements(proof, 16)),
        ]
        for corrupted in bad:
            with pytest.raises(ProofInvalid):
                corrupted.verify()


def test_trivial_consistency_cases() -> None:
    root = HASHES[0]
    empty = transparency.tree_root([])
    Consistency(0, 0, empty, empty, []).verify()
    Consistency(0, 5, empty, root, []).verify()
    Consistency(3, 3, root, root, []).verify()
    for bad in (
        Consistency(3, 3, root, empty, []),
        Consistency(3, 3, root, root, [root]),
        Consistency(0, 5, empty, root, [root]),
        Consistency(4, 3, root, root, []),
        Consistency(1, 2, root[:31], root, [root]),
    ):
        with pytest.raises(ProofInvalid):
            bad.verify()


def test_inclusion_edge_cases() -> None:
    Inclusion(HASHES[0], 0, 1, [], HASHES[0]).verify()
    for bad in (
        Inclusion(HASHES[0], 0, 0, [], HASHES[0]),
        Inclusion(HASHES[0], 1, 1, [], HASHES[0]),
        Inclusion(HASHES[0], 0, 1, [HASHES[1]], HASHES[0]),
        Inclusion(b"", 0, 1, [], HASHES[0]),
    ):
        with pytest.raises(ProofInvalid):
            bad.verify()


def test_proof_generation_refuses_impossible_requests() -> None:
    with pytest.raises(ValueError, match="no leaf"):
        transparency.inclusion_proof(HASHES[:3], 3)
    with pytest.raises(ValueError, match="old size"):
        transparency.consistency_proof(HASHES[:3], 4)


# Key bindings ---------------------------------------------------------------------------------------


def test_key_binding_leaf_round_trip() -> None:
    binding = KeyBinding(
        SubjectKind.GROUP, uuid.uuid4(), KeyPurpose.ENCRYPTION, 7, bytes(range(32))
    )
    leaf = binding.to_leaf()
    assert len(leaf) == transparency.LEAF_BYTES
    assert KeyBinding.from_leaf(leaf) == binding
    for bad in (
        flip(leaf, 2, 0x04),
        flip(leaf, 19, 0x04),
        leaf[:-1],
        leaf + b"\x00",
        flip(leaf, 1),
    ):
        with pytest.raises(MalformedEnvelope):
            KeyBinding.from_leaf(bad)


def test_key_binding_validates_its_fields() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        KeyBinding(SubjectKind.USER, uuid.uuid4(), KeyPurpose.SIGNING, 1, bytes(31))
    with pytest.raises(ValueError, match="32 bits"):
        KeyBinding(SubjectKind.USER, uuid.uuid4(), KeyPurpose.SIGNING, 2**32, bytes(32))


# Checkpoints ----------------------------------------------------------------------------------------


def log_of(bindings: list[KeyBinding]) -> tuple[list[bytes], Checkpoint, str]:
    hashes = [b.leaf_hash() for b in bindings]
    checkpoint = Checkpoint(ORIGIN, len(hashes), transparency.tree_root(hashes))
    return hashes, checkpoint, transparency.sign_checkpoint(checkpoint, log_signing_seed=LOG_SEED)


PATIENT, DOCTOR = new_user(), new_user()
BINDINGS = [
    PATIENT.encryption_binding(),
    PATIENT.signing_binding(),
    DOCTOR.encryption_binding(),
    DOCTOR.signing_binding(),
]


def verify(note: str) -> Checkpoint:
    return transparency.verify_checkpoint(note, origin=ORIGIN, log_public_key=LOG_PUBLIC)


def test_checkpoint_round_trip_and_format() -> None:
    _, checkpoint, note = log_of(BINDINGS)
    root = base64.b64encode(checkpoint.root_hash).decode()
    assert note.startswith(f"{ORIGIN}\n4\n{root}\n\n\u2014 {ORIGIN} ")
    assert verify(note) == checkpoint


def test_a_substituted_public_key_fails_the_inclusion_check() -> None:
    hashes, _, note = log_of(BINDINGS)
    checkpoint = verify(note)
    proof = transparency.inclusion_proof(hashes, 0)
    transparency.verify_key_binding(BINDINGS[0], leaf_index=0, proof=proof, checkpoint=checkpoint)
    mallory = new_user(PATIENT.user_id)  # the server's own key, claimed to be the patient's
    with pytest.raises(ProofInvalid):
        transparency.verify_key_binding(
            mallory.encryption_binding(), leaf_index=0, proof=proof, checkpoint=checkpoint
        )


def test_a_substituted_public_key_fails_the_fingerprint_comparison() -> None:
    shown_by_the_doctor = transparency.fingerprint(BINDINGS[2:4])
    served_by_a_malicious_server = new_user(DOCTOR.user_id)
    with pytest.raises(InvalidPublicKey):
        transparency.check_fingerprint(
            [
                served_by_a_malicious_server.encryption_binding(),
                served_by_a_malicious_server.signing_binding(),
            ],
            shown_by_the_doctor,
        )
    transparency.check_fingerprint(BINDINGS[3:1:-1], shown_by_the_doctor.replace(" ", "  "))


def test_fingerprint_format() -> None:
    fingerprint = transparency.fingerprint(BINDINGS[:2])
    groups = fingerprint.split(" ")
    assert len(groups) == 6
    assert all(len(g) == 5 and g.isdigit() for g in groups)
    assert transparency.fingerprint(BINDINGS[1::-1]) == fingerprint
    assert transparency.fingerprint(BINDINGS[:1]) != fingerprint
    with pytest.raises(ValueError, match="at least one"):
        transparency.fingerprint([])


def test_checkpoint_consistency_between_two_sizes() -> None:
    hashes, _, old_note = log_of(BINDINGS[:2])
    all_hashes, _, new_note = log_of(BINDINGS)
    old, new = verify(old_note), verify(new_note)
    proof = transparency.consistency_proof(all_hashes, 2)
    transparency.verify_checkpoint_consistency(old, new, proof)
    with pytest.raises(ProofInvalid):
        transparency.verify_checkpoint_consistency(new, old, proof)
    other = Checkpoint("other.example/log", new.tree_size, new.root_hash)
    with pytest.raises(ProofInvalid):
        transparency.verify_checkpoint_consistency(old, other, proof)
    assert hashes == all_hashes[:2]


def test_witness_signatures_are_ignored() -> None:
    _, checkpoint, note = log_of(BINDINGS)
    witness_public, witness_secret = _sodium.ed25519_keypair_from_seed(bytes(32))
    text = checkpoint.note_text()
    witness_signature = _sodium.ed25519_sign(text.encode(), witness_secret)
    line = base64.b64encode(
        transparency.note_key_id("witness.example", witness_public) + witness_signature
    ).decode()
    assert verify(f"{note}\u2014 witness.example {line}\n") == checkpoint
    # A line that reuses the log's name but not its key ID is someone else's: ignored too.
    assert verify(f"{note}\u2014 {ORIGIN} {line}\n") == checkpoint


def test_signature_failures() -> None:
    _, checkpoint, note = log_of(BINDINGS)
    other_public = _sodium.ed25519_keypair_from_seed(bytes(32))[0]
    with pytest.raises(ProofInvalid):
        transparency.verify_checkpoint(note, origin=ORIGIN, log_public_key=other_public)
    tampered = note.replace(f"\n{checkpoint.tree_size}\n", f"\n{checkpoint.tree_size + 1}\n")
    with pytest.raises(ProofInvalid):
        verify(tampered)
    signature_line = note.split("\n")[-2]
    encoded = signature_line.rsplit(" ", 1)[1]
    raw = base64.b64decode(encoded)
    bad_line = signature_line.replace(encoded, base64.b64encode(flip(raw, -1)).decode())
    with pytest.raises(ProofInvalid):
        verify(note.replace(signature_line, bad_line))


def test_a_checkpoint_for_another_origin_is_refused() -> None:
    # Signed by the log's key, the signature line names this log, but the text is another log's.
    checkpoint = Checkpoint("other.example/log", 1, HASHES[0])
    text = checkpoint.note_text()
    _, secret = _sodium.ed25519_keypair_from_seed(LOG_SEED)
    signature = _sodium.ed25519_sign(text.encode(), secret)
    line = base64.b64encode(transparency.note_key_id(ORIGIN, LOG_PUBLIC) + signature).decode()
    with pytest.raises(ProofInvalid):
        verify(f"{text}\n\u2014 {ORIGIN} {line}\n")


def signed(text: str) -> str:
    """Any text signed as a note by the log's key (to reach the checkpoint parser)."""
    _, secret = _sodium.ed25519_keypair_from_seed(LOG_SEED)
    signature = _sodium.ed25519_sign(text.encode(), secret)
    line = base64.b64encode(transparency.note_key_id(ORIGIN, LOG_PUBLIC) + signature).decode()
    return f"{text}\n\u2014 {ORIGIN} {line}\n"


ROOT = base64.b64encode(HASHES[0]).decode()
_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
#: The same 32 bytes with one of the two unused low bits of the last character set.
NON_CANONICAL_ROOT = ROOT[:-2] + _ALPHABET[_ALPHABET.index(ROOT[-2]) | 1] + "="


@pytest.mark.parametrize(
    "note",
    [
        signed(f"{ORIGIN}\n01\n{ROOT}\n"),  # leading zero
        signed(f"{ORIGIN}\n1\n{ROOT}\nextension\n"),  # extension line
        signed(f"{ORIGIN}\n1\n{ROOT[:-2]}\n"),  # bad base64
        signed(f"{ORIGIN}\n1\n{base64.b64encode(bytes(31)).decode()}\n"),  # short root
        signed(f"{ORIGIN}\n99999999999999999999\n{ROOT}\n"),  # size too large
        signed(f"{ORIGIN}\n1\n{NON_CANONICAL_ROOT}\n"),  # non-canonical base64
        f"{ORIGIN}\n1\n{ROOT}\n",  # no signature block
        f"{ORIGIN}\n1\n{ROOT}\n\n",  # empty signature block
        f"{ORIGIN}\n1\n{ROOT}\n\n\u2014 {ORIGIN} AAAA",  # no final newline
        f"{ORIGIN}\n1\n{ROOT}\n\n- {ORIGIN} AAAA\n",  # not an em dash
        f"{ORIGIN}\n1\n{ROOT}\n\n\u2014 {ORIGIN} !!!!\n",  # signature not base64
        f"{ORIGIN}\n1\n{ROOT}\n\n\u2014 {ORIGIN}  AAAA\n",  # empty field
        f"{ORIGIN}\x01\n1\n{ROOT}\n\n\u2014 {ORIGIN} AAAA\n",  # control character
        "x" * (transparency.MAX_NOTE_CHARS + 1),
    ],
)
def test_malformed_notes_are_refused(note: str) -> None:
    with pytest.raises(ProofInvalid):
        verify(note)


@pytest.mark.parametrize(
    ("origin", "size", "root"),
    [
        ("", 1, bytes(32)),
        ("a b", 1, bytes(32)),
        ("a+b", 1, bytes(32)),
        ("a", -1, bytes(32)),
        ("a", 1, b""),
    ],
)
def test_checkpoint_fields_are_validated(origin: str, size: int, root: bytes) -> None:
    with pytest.raises(ValueError, match=r"origin|size"):
        Checkpoint(origin, size, root)
