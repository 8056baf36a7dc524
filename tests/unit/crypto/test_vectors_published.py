"""Published known-answer tests (tests/vectors/*.json; each file names its source)."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from nacl import bindings

from colloque.crypto import _sodium, transparency
from colloque.crypto.errors import DecryptionFailed, InvalidPublicKey, SignatureInvalid
from tests.unit.crypto.helpers import flip
from tests.unit.crypto.vectors import load

ARGON2ID = load("argon2id")
KDF = load("kdf")
X25519 = load("x25519")
ED25519 = load("ed25519")
MERKLE = load("merkle_rfc6962")


def test_every_vector_file_names_its_source() -> None:
    names = [
        "argon2id",
        "kdf",
        "x25519",
        "ed25519",
        "xchacha20poly1305",
        "blake2b",
        "merkle_rfc6962",
        "signed_note",
        "login",
        "key_bundle",
        "items",
        "groups",
        "documents",
        "transparency",
    ]
    for name in names:
        assert load(name)["source"].strip()


@pytest.mark.parametrize("case", ARGON2ID["cases"])
def test_argon2id_libsodium(case: dict[str, Any]) -> None:
    out = _sodium.argon2id(
        bytes.fromhex(case["password"]),
        bytes.fromhex(case["salt"]),
        case["opslimit"],
        case["memlimit"],
        case["outlen"],
    )
    assert out.hex() == case["hash"]


@pytest.mark.parametrize("case", KDF["cases"])
def test_crypto_kdf_libsodium(case: dict[str, Any]) -> None:
    subkey = _sodium.kdf_derive(
        bytes.fromhex(KDF["master_key"]),
        case["subkey_id"],
        KDF["context"].encode(),
        case["length"],
    )
    assert subkey.hex() == case["subkey"]


@pytest.mark.parametrize(
    ("key", "context", "length"),
    [(bytes(31), b"CQ-login", 32), (bytes(32), b"CQ-log", 32), (bytes(32), b"CQ-login", 15)],
)
def test_crypto_kdf_refuses_bad_arguments(key: bytes, context: bytes, length: int) -> None:
    with pytest.raises(ValueError, match="crypto_kdf"):
        _sodium.kdf_derive(key, 1, context, length)


def test_x25519_rfc7748() -> None:
    alice, bob = bytes.fromhex(X25519["alice_private"]), bytes.fromhex(X25519["bob_private"])
    assert _sodium.x25519_public_from_secret(alice).hex() == X25519["alice_public"]
    assert _sodium.x25519_public_from_secret(bob).hex() == X25519["bob_public"]
    shared = bindings.crypto_scalarmult(alice, bytes.fromhex(X25519["bob_public"]))
    assert shared.hex() == X25519["shared_secret"]


@pytest.mark.parametrize("public", X25519["low_order_public_keys"])
def test_x25519_low_order_points_are_refused(public: str) -> None:
    with pytest.raises(InvalidPublicKey):
        _sodium.seal(b"item key", bytes.fromhex(public))
    with pytest.raises(InvalidPublicKey):
        _sodium.seal_with_ephemeral_seed(b"item key", bytes.fromhex(public), bytes(32))


def test_sealing_refuses_a_key_of_the_wrong_length() -> None:
    with pytest.raises(InvalidPublicKey):
        _sodium.seal(b"x", bytes(31))
    with pytest.raises(InvalidPublicKey):
        _sodium.seal_with_ephemeral_seed(b"x", bytes(33), bytes(32))


@pytest.mark.parametrize("case", ED25519["valid"])
def test_ed25519_rfc8032(case: dict[str, str]) -> None:
    public, secret = _sodium.ed25519_keypair_from_seed(bytes.fromhex(case["secret_key"]))
    assert public.hex() == case["public_key"]
    message = bytes.fromhex(case["message"])
    assert _sodium.ed25519_sign(message, secret).hex() == case["signature"]
    _sodium.ed25519_verify(bytes.fromhex(case["signature"]), message, public)


@pytest.mark.parametrize("case", ED25519["invalid"], ids=lambda c: c["comment"])
def test_ed25519_invalid_signatures_are_refused(case: dict[str, str]) -> None:
    with pytest.raises(SignatureInvalid):
        _sodium.ed25519_verify(
            bytes.fromhex(case["signature"]),
            bytes.fromhex(case["message"]),
            bytes.fromhex(case["public_key"]),
        )


def test_ed25519_refuses_wrong_lengths() -> None:
    case = ED25519["valid"][0]
    signature, public = bytes.fromhex(case["signature"]), bytes.fromhex(case["public_key"])
    with pytest.raises(SignatureInvalid):
        _sodium.ed25519_verify(signature[:63], b"", public)
    with pytest.raises(SignatureInvalid):
        _sodium.ed25519_verify(signature, b"", public[:31])


def test_xchacha20poly1305_draft_vector() -> None:
    v = load("xchacha20poly1305")
    key, nonce, aad = (bytes.fromhex(v[k]) for k in ("key", "nonce", "aad"))
    plaintext = bytes.fromhex(v["plaintext"])
    sealed = _sodium.aead_encrypt(plaintext, aad, nonce, key)
    assert sealed.hex() == v["ciphertext"] + v["tag"]
    assert _sodium.aead_decrypt(sealed, aad, nonce, key) == plaintext
    with pytest.raises(DecryptionFailed):
        _sodium.aead_decrypt(flip(sealed, -1), aad, nonce, key)
    with pytest.raises(DecryptionFailed):
        _sodium.aead_decrypt(sealed, flip(aad, 0), nonce, key)


def test_blake2b_rfc7693() -> None:
    v = load("blake2b")
    assert _sodium.blake2b(bytes.fromhex(v["message"]), length=v["length"]).hex() == v["digest"]


def _leaf_hashes(count: int) -> list[bytes]:
    return [transparency.leaf_hash(bytes.fromhex(leaf)) for leaf in MERKLE["leaves"][:count]]


def test_merkle_roots_rfc6962() -> None:
    assert transparency.tree_root([]).hex() == MERKLE["empty_root"]
    for size, root in enumerate(MERKLE["roots"], start=1):
        assert transparency.tree_root(_leaf_hashes(size)).hex() == root


@pytest.mark.parametrize("case", MERKLE["inclusion_proofs"])
def test_merkle_inclusion_proofs_rfc6962(case: dict[str, Any]) -> None:
    hashes = _leaf_hashes(case["tree_size"])
    proof = [bytes.fromhex(p) for p in case["proof"]]
    assert transparency.inclusion_proof(hashes, case["index"]) == proof
    transparency.verify_inclusion(
        leaf_hash=hashes[case["index"]],
        index=case["index"],
        tree_size=case["tree_size"],
        proof=proof,
        root=bytes.fromhex(MERKLE["roots"][case["tree_size"] - 1]),
    )


@pytest.mark.parametrize("case", MERKLE["consistency_proofs"])
def test_merkle_consistency_proofs_rfc6962(case: dict[str, Any]) -> None:
    hashes = _leaf_hashes(case["new_size"])
    proof = [bytes.fromhex(p) for p in case["proof"]]
    assert transparency.consistency_proof(hashes, case["old_size"]) == proof
    transparency.verify_consistency(
        old_size=case["old_size"],
        new_size=case["new_size"],
        old_root=bytes.fromhex(MERKLE["roots"][case["old_size"] - 1]),
        new_root=bytes.fromhex(MERKLE["roots"][case["new_size"] - 1]),
        proof=proof,
    )


def test_signed_note_golang_vector() -> None:
    v = load("signed_note")
    seed = base64.b64decode(v["private_key_string"].split("+c74f20a3+")[1])[1:]
    public, secret = _sodium.ed25519_keypair_from_seed(seed)
    assert base64.b64decode(v["verifier_key_string"].split("+c74f20a3+")[1])[1:] == public
    assert transparency.note_key_id(v["key_name"], public).hex() == v["key_id"]
    signature = _sodium.ed25519_sign(v["text"].encode(), secret)
    line = base64.b64encode(bytes.fromhex(v["key_id"]) + signature).decode()
    assert f"{v['text']}\n\u2014 {v['key_name']} {line}\n" == v["signed_note"]
    text, signatures = transparency._parse_note(v["signed_note"])
    assert text == v["text"]
    assert signatures == [(v["key_name"], line)]
