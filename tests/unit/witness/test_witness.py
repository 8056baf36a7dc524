"""The witness service in process: what it cosigns, what it refuses and with which status."""

from __future__ import annotations

import base64
import os
import stat
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from colloque.clock import SettableClock
from colloque.crypto import transparency, witness
from colloque.crypto.transparency import Checkpoint
from colloque.witness.app import create_witness_app
from colloque.witness.keys import (
    SEED_FILE,
    WitnessKey,
    WitnessKeyError,
    decode_seed,
    load_or_create_seed,
)
from colloque.witness.services import Witness
from colloque.witness.storage import Latest, Store

ORIGIN = "colloque.test/key-directory"
LOG_SEED = bytes(range(32))
LOG_PUBLIC = transparency.log_public_key(LOG_SEED)
NAME = "witness.test/one"
NOW = datetime(2026, 12, 6, 6, 0, tzinfo=UTC)


def hashes(size: int, salt: bytes = b"") -> list[bytes]:
    return [transparency.leaf_hash(salt + i.to_bytes(4, "big")) for i in range(size)]


def note(leaves: list[bytes], seed: bytes = LOG_SEED, origin: str = ORIGIN) -> str:
    checkpoint = Checkpoint(origin, len(leaves), transparency.tree_root(leaves))
    return transparency.sign_checkpoint(checkpoint, log_signing_seed=seed)


def body(old: int, proof: list[bytes], signed: str) -> str:
    lines = "".join(base64.b64encode(h).decode() + "\n" for h in proof)
    return f"old {old}\n{lines}\n{signed}"


def grow(leaves: list[bytes], old: int) -> str:
    return body(old, transparency.consistency_proof(leaves, old), note(leaves))


@pytest.fixture
def key() -> WitnessKey:
    return WitnessKey(NAME, bytes([7]) * 32)


@pytest.fixture
def http(tmp_path: Path, key: WitnessKey) -> Iterator[TestClient]:
    service = Witness(
        key=key, logs={ORIGIN: LOG_PUBLIC}, store=Store(tmp_path), clock=SettableClock(NOW)
    )
    with TestClient(create_witness_app(service)) as client:
        yield client


def post(http: TestClient, text: str | bytes) -> tuple[int, str, str]:
    answer = http.post("/add-checkpoint", content=text)
    return answer.status_code, answer.text, answer.headers["content-type"]


def cosigned(http: TestClient, key: WitnessKey, leaves: list[bytes], old: int) -> None:
    status, text, _ = post(http, grow(leaves, old))
    assert status == 200, text
    full = note(leaves) + text
    checkpoint = witness.verify_witnessed_checkpoint(
        full,
        origin=ORIGIN,
        log_public_key=LOG_PUBLIC,
        witnesses={NAME: key.public_key},
        threshold=1,
    )
    assert checkpoint.tree_size == len(leaves)
    assert text.startswith(f"\u2014 {NAME} ")
    assert witness.verify_cosignature(
        checkpoint, name=NAME, public_key=key.public_key, encoded=text.split(" ")[2].strip()
    ) == witness.Cosignature(NAME, int(NOW.timestamp()))


def test_it_cosigns_a_log_that_grows(http: TestClient, key: WitnessKey) -> None:
    log = hashes(9)
    cosigned(http, key, log[:3], 0)
    cosigned(http, key, log[:3], 3)  # the same checkpoint again: a fresh cosignature
    cosigned(http, key, log, 3)


def test_a_wrong_old_size_gets_the_stored_size(http: TestClient, key: WitnessKey) -> None:
    log = hashes(6)
    assert post(http, grow(log[:2], 1)) == (409, "0\n", "text/x.tlog.size")
    cosigned(http, key, log[:4], 0)
    assert post(http, grow(log, 2)) == (409, "4\n", "text/x.tlog.size")


def test_a_rollback_is_refused(http: TestClient, key: WitnessKey) -> None:
    log = hashes(6)
    cosigned(http, key, log, 0)
    assert post(http, body(6, [], note(log[:5])))[0] == 400  # old above the checkpoint's size
    assert post(http, body(5, [], note(log[:5])))[:2] == (409, "6\n")
    assert post(http, grow(log[:5], 0))[:2] == (409, "6\n")


def test_a_fork_is_refused(http: TestClient, key: WitnessKey) -> None:
    log = hashes(6)
    cosigned(http, key, log[:4], 0)
    forked = log[:3] + hashes(3, b"fork")
    assert post(http, body(4, [], note(forked[:4])))[:2] == (409, "4\n")  # same size
    status, text, _ = post(http, grow(forked, 4))  # larger, but not an extension
    assert (status, text) == (422, "the consistency proof does not verify\n")
    cosigned(http, key, log, 4)  # the honest log still goes on


def test_an_inconsistent_proof_is_refused(http: TestClient, key: WitnessKey) -> None:
    log = hashes(7)
    cosigned(http, key, log[:3], 0)
    proof = transparency.consistency_proof(log, 3)
    proof[0] = bytes(32)
    assert post(http, body(3, proof, note(log)))[0] == 422
    assert post(http, body(0, [bytes(32)], note(log[:3])))[0] == 409


@pytest.mark.parametrize(
    ("text", "status"),
    [
        ("old 0\n" + note([]), 400),  # no blank line
        ("new 0\n\n" + note([]), 400),
        ("old 01\n\n" + note([]), 400),
        ("old 0\n" + "AAAA\n" * 64 + "\n" + note([]), 400),
        ("old 0\nnot base64\n\n" + note([]), 400),
        ("old 0\nAAAA\n\n" + note([]), 400),
        (body(0, [], note([], origin="another.test/log")), 404),
        (body(0, [], note([], seed=bytes(32))), 403),
        (b"old 0\n\n\xff", 400),
        ("old 0\n\n" + "x" * 70_000, 413),
    ],
)
def test_malformed_submissions(http: TestClient, text: str | bytes, status: int) -> None:
    assert post(http, text)[0] == status


def test_the_state_survives_a_new_store(tmp_path: Path, key: WitnessKey) -> None:
    log = hashes(5)
    store = Store(tmp_path)
    assert store.latest(ORIGIN) is None
    service = Witness(key=key, logs={ORIGIN: LOG_PUBLIC}, store=store, clock=SettableClock(NOW))
    service.add_checkpoint(grow(log, 0))
    again = Store(tmp_path)
    assert again.latest(ORIGIN) == Latest(5, transparency.tree_root(log))


def test_the_seed_is_made_once_with_owner_only_permissions(tmp_path: Path) -> None:
    first = load_or_create_seed(tmp_path / "w")
    assert stat.S_IMODE(os.stat(tmp_path / "w" / SEED_FILE).st_mode) == 0o600
    assert load_or_create_seed(tmp_path / "w") == first
    assert load_or_create_seed(tmp_path / "x", first.hex()) == first
    assert not (tmp_path / "x").exists()


def test_key_errors(tmp_path: Path) -> None:
    (tmp_path / SEED_FILE).write_text("too short\n")
    with pytest.raises(WitnessKeyError, match="32 random bytes"):
        load_or_create_seed(tmp_path)
    (tmp_path / SEED_FILE).write_bytes(b"\xff\xfe")
    with pytest.raises(WitnessKeyError, match="cannot read"):
        load_or_create_seed(tmp_path)
    blocked = tmp_path / "file"
    blocked.write_text("")
    with pytest.raises(WitnessKeyError, match="cannot make"):
        load_or_create_seed(blocked / "dir")
    assert decode_seed(base64.urlsafe_b64encode(bytes(32)).decode().rstrip("=")) == bytes(32)
    with pytest.raises(WitnessKeyError):
        decode_seed("z" * 64)


def test_the_config_line(key: WitnessKey) -> None:
    assert key.config_line() == f"{NAME}={base64.b64encode(key.public_key).decode()}"
