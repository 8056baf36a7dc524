"""Witness cosignatures: the vectors, and every way a cosigned checkpoint is refused."""

from __future__ import annotations

import base64
import struct

import pytest

from colloque.crypto import transparency, witness
from colloque.crypto.errors import ProofInvalid
from colloque.crypto.transparency import Checkpoint
from tests.unit.crypto import vectors, vectors_witness
from tests.unit.crypto.vectors import load

STORED = load("cosignatures")
ORIGIN = STORED["origin"]
LOG_PUBLIC = base64.b64decode(STORED["log_public_key"])
WITNESSES = {w["name"]: base64.b64decode(w["public_key"]) for w in STORED["witnesses"]}
CHECKPOINT = vectors_witness.CHECKPOINT


def _verify(note: str, threshold: int = 2, witnesses: dict[str, bytes] = WITNESSES) -> Checkpoint:
    return witness.verify_witnessed_checkpoint(
        note, origin=ORIGIN, log_public_key=LOG_PUBLIC, witnesses=witnesses, threshold=threshold
    )


def test_the_vectors_are_up_to_date() -> None:
    stored = (vectors.VECTORS / "cosignatures.json").read_text(encoding="utf-8")
    assert vectors.dump(vectors_witness.cosignature_vectors()) == stored


def test_the_vectors_verify_with_the_public_recipes() -> None:
    assert _verify(STORED["cosigned_checkpoint"]) == CHECKPOINT
    for entry in STORED["witnesses"]:
        public = base64.b64decode(entry["public_key"])
        assert witness.witness_public_key(bytes.fromhex(entry["ed25519_seed"])) == public
        assert witness.cosignature_key_id(entry["name"], public).hex() == entry["key_id"]
        encoded = entry["cosignature_line"].rstrip("\n").split(" ")[2]
        found = witness.verify_cosignature(
            CHECKPOINT, name=entry["name"], public_key=public, encoded=encoded
        )
        assert found == witness.Cosignature(entry["name"], entry["timestamp"])


@pytest.mark.parametrize("case", STORED["refused"], ids=lambda case: case["case"])
def test_tampered_notes_are_refused(case: dict[str, str]) -> None:
    with pytest.raises(ProofInvalid):
        _verify(case["note"])


def test_one_witness_is_enough_for_a_threshold_of_one() -> None:
    (first,) = (case["note"] for case in STORED["refused"] if case["case"].startswith("only"))
    assert _verify(first, threshold=1) == CHECKPOINT


def test_threshold_zero_is_the_log_signature_alone() -> None:
    assert _verify(STORED["checkpoint"], threshold=0) == CHECKPOINT
    assert _verify(STORED["checkpoint"], threshold=0, witnesses={}) == CHECKPOINT


def test_unknown_witnesses_are_not_counted() -> None:
    seed = bytes(range(32))
    stranger = witness.cosign(
        CHECKPOINT, name="stranger.example", witness_signing_seed=seed, timestamp=1
    )
    note = STORED["checkpoint"] + stranger
    with pytest.raises(ProofInvalid, match="too few"):
        _verify(note, threshold=1)
    stranger_key = {"stranger.example": witness.witness_public_key(seed)}
    assert _verify(note, threshold=1, witnesses=stranger_key) == CHECKPOINT


def test_the_log_signature_is_still_required() -> None:
    unsigned_by_log = STORED["cosigned_checkpoint"].replace(
        f"\u2014 {ORIGIN} ", "\u2014 somebody.else ", 1
    )
    with pytest.raises(ProofInvalid, match="log's key"):
        _verify(unsigned_by_log)


@pytest.mark.parametrize("threshold", [-1, 3])
def test_a_threshold_outside_zero_to_n_is_a_configuration_error(threshold: int) -> None:
    with pytest.raises(ValueError, match="threshold"):
        _verify(STORED["cosigned_checkpoint"], threshold=threshold)


def _raw(entry: int = 0) -> bytes:
    line = STORED["witnesses"][entry]["cosignature_line"]
    return base64.b64decode(line.rstrip("\n").split(" ")[2])


def _check(raw: bytes | str, name: str = "witness.example/alpha") -> witness.Cosignature:
    encoded = raw if isinstance(raw, str) else base64.b64encode(raw).decode()
    return witness.verify_cosignature(
        CHECKPOINT, name=name, public_key=WITNESSES[name], encoded=encoded
    )


def test_verify_cosignature_refuses_each_kind_of_damage() -> None:
    with pytest.raises(ProofInvalid, match="malformed"):
        _check("not base64!")
    with pytest.raises(ProofInvalid, match="not a cosignature"):
        _check(_raw()[:-1])
    with pytest.raises(ProofInvalid, match="not a cosignature"):
        _check(_raw(), name="witness.example/beta")
    too_late = _raw()[:4] + struct.pack(">Q", 2**63) + _raw()[12:]
    with pytest.raises(ProofInvalid, match="timestamp"):
        _check(too_late)
    with pytest.raises(ProofInvalid, match="does not verify"):
        _check(_raw()[:-1] + bytes([_raw()[-1] ^ 1]))


def test_cosign_refuses_bad_names_and_timestamps() -> None:
    seed = bytes(32)
    for name in ("", "two words", "a+b"):
        with pytest.raises(ValueError, match="name"):
            witness.cosign(CHECKPOINT, name=name, witness_signing_seed=seed, timestamp=0)
    for timestamp in (-1, 2**63):
        with pytest.raises(ValueError, match="timestamp"):
            witness.cosign(CHECKPOINT, name="w", witness_signing_seed=seed, timestamp=timestamp)


def test_the_cosignature_key_id_differs_from_the_note_key_id() -> None:
    public = WITNESSES["witness.example/alpha"]
    assert witness.cosignature_key_id("w", public) != transparency.note_key_id("w", public)


def test_new_witness_seeds_are_fresh() -> None:
    first, second = witness.new_witness_seed(), witness.new_witness_seed()
    assert len(first) == 32
    assert first != second


def test_cosignatures_older_than_not_before_are_not_counted() -> None:
    newest = max(entry["timestamp"] for entry in STORED["witnesses"])
    oldest = min(entry["timestamp"] for entry in STORED["witnesses"])
    note = STORED["cosigned_checkpoint"]
    assert (
        witness.verify_witnessed_checkpoint(
            note,
            origin=ORIGIN,
            log_public_key=LOG_PUBLIC,
            witnesses=WITNESSES,
            threshold=2,
            not_before=oldest,
        )
        == CHECKPOINT
    )
    with pytest.raises(ProofInvalid, match="too few"):
        witness.verify_witnessed_checkpoint(
            note,
            origin=ORIGIN,
            log_public_key=LOG_PUBLIC,
            witnesses=WITNESSES,
            threshold=2,
            not_before=newest,
        )
