"""The client remembers the largest checkpoint it verified, and requires witnesses when pinned.

The log here is a list of leaves signed in memory; ``fetch`` answers the two key directory calls
the way the server does, so a test can grow, roll back or fork the log between two clients.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from colloque.client import ColloqueClient
from colloque.client.directory import CHECKPOINTS, KeyDirectory
from colloque.client.encoding import b64
from colloque.client.pins import pinned_witnesses
from colloque.client.state import FileState, MemoryState
from colloque.clock import SettableClock
from colloque.crypto import transparency, witness
from colloque.crypto.errors import ProofInvalid
from colloque.crypto.transparency import Checkpoint

ORIGIN = "colloque.test/key-directory"
LOG_SEED = bytes(range(32))
LOG_PUBLIC = transparency.log_public_key(LOG_SEED)
WITNESS_SEEDS = {"w1.test": bytes([1]) * 32, "w2.test": bytes([2]) * 32}
WITNESS_KEYS = {name: witness.witness_public_key(seed) for name, seed in WITNESS_SEEDS.items()}


class FakeLog:
    def __init__(
        self, leaves: int, *, salt: bytes = b"", cosigners: tuple[str, ...] = (), at: int = 1
    ) -> None:
        self.hashes = [transparency.leaf_hash(salt + bytes([i])) for i in range(leaves)]
        self.cosigners = cosigners
        self.at = at

    def note(self) -> str:
        checkpoint = Checkpoint(ORIGIN, len(self.hashes), transparency.tree_root(self.hashes))
        note = transparency.sign_checkpoint(checkpoint, log_signing_seed=LOG_SEED)
        for name in self.cosigners:
            note += witness.cosign(
                checkpoint, name=name, witness_signing_seed=WITNESS_SEEDS[name], timestamp=self.at
            )
        return note

    def fetch(self, path: str) -> Any:
        if path == "/api/v1/key-directory":
            return {
                "origin": ORIGIN,
                "public_key": b64(LOG_PUBLIC),
                "signed_checkpoint": self.note(),
            }
        query = dict(part.split("=") for part in path.split("?")[1].split("&"))
        old, new = int(query["from"]), int(query["to"])
        assert new == len(self.hashes)
        return {"proof": [b64(h) for h in transparency.consistency_proof(self.hashes, old)]}


def _directory(log: FakeLog, state: MemoryState, **pins: Any) -> KeyDirectory:
    return KeyDirectory(log.fetch, origin=ORIGIN, log_public_key=LOG_PUBLIC, state=state, **pins)


def test_a_new_process_starts_from_the_saved_checkpoint(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    first = _directory(FakeLog(5), FileState(path))
    assert first.checkpoint is None
    assert first.refresh().tree_size == 5
    again = _directory(FakeLog(5), FileState(path))
    assert again.checkpoint is not None
    assert again.checkpoint.tree_size == 5
    assert again.refresh().tree_size == 5
    grown = _directory(FakeLog(9), FileState(path))
    assert grown.refresh().tree_size == 9  # consistent with 5: accepted and saved
    assert _directory(FakeLog(9), FileState(path)).checkpoint == grown.checkpoint


@pytest.mark.parametrize(
    "attack",
    [FakeLog(4), FakeLog(5, salt=b"fork"), FakeLog(9, salt=b"fork")],
    ids=["rolled back", "forked at the same size", "forked and larger"],
)
def test_a_new_process_refuses_what_does_not_extend_the_saved_checkpoint(
    tmp_path: Path, attack: FakeLog
) -> None:
    path = tmp_path / "state.json"
    _directory(FakeLog(5), FileState(path)).refresh()
    later = _directory(attack, FileState(path))
    with pytest.raises(ProofInvalid):
        later.refresh()
    assert FileState(path).get(CHECKPOINTS, ORIGIN)["note"] == FakeLog(5).note()


def test_a_state_that_has_the_log_under_another_key_is_refused() -> None:
    state = MemoryState()
    _directory(FakeLog(2), state).refresh()
    with pytest.raises(ProofInvalid, match="another key"):
        KeyDirectory(FakeLog(2).fetch, origin=ORIGIN, log_public_key=bytes(32), state=state)


def test_witnesses_pinned_means_cosignatures_required() -> None:
    pins = {"witnesses": WITNESS_KEYS, "threshold": 2}
    with pytest.raises(ProofInvalid, match="too few"):
        _directory(FakeLog(3, cosigners=("w1.test",)), MemoryState(), **pins).refresh()
    both = FakeLog(3, cosigners=("w1.test", "w2.test"))
    assert _directory(both, MemoryState(), **pins).refresh().tree_size == 3


def test_a_client_pins_witnesses_and_keeps_its_state_in_a_file(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    with ColloqueClient("http://127.0.0.1:9", state=path) as client:
        directory = client.pin_key_directory(
            origin=ORIGIN,
            log_public_key=LOG_PUBLIC,
            witnesses={"w1.test": b64(WITNESS_KEYS["w1.test"])},
            threshold=1,
        )
        assert directory.witnesses == {"w1.test": WITNESS_KEYS["w1.test"]}
        assert directory.threshold == 1
        directory._fetch = FakeLog(6, cosigners=("w1.test",)).fetch
        directory.refresh()
    with ColloqueClient("http://127.0.0.1:9", state=path) as client:
        pinned = client.pin_key_directory(origin=ORIGIN, log_public_key=LOG_PUBLIC)
        assert pinned.checkpoint is not None
        assert pinned.checkpoint.tree_size == 6


def test_with_a_max_age_only_recent_cosignatures_count() -> None:
    now = datetime(2026, 12, 6, 6, 0, tzinfo=UTC)
    pins: dict[str, Any] = {
        "witnesses": WITNESS_KEYS,
        "threshold": 2,
        "witness_max_age": timedelta(hours=1),
        "clock": SettableClock(now),
    }
    recent = int(now.timestamp()) - 3_000
    fresh = FakeLog(3, cosigners=("w1.test", "w2.test"), at=recent)
    assert _directory(fresh, MemoryState(), **pins).refresh().tree_size == 3
    stale = FakeLog(3, cosigners=("w1.test", "w2.test"), at=recent - 1_000)
    with pytest.raises(ProofInvalid, match="too few"):
        _directory(stale, MemoryState(), **pins).refresh()


@pytest.mark.parametrize(
    ("threshold", "error", "message"),
    [
        ("1", TypeError, "threshold must be int, not str"),
        (True, TypeError, "not bool"),
        (-1, ValueError, "between 0 and 1"),
        (2, ValueError, "between 0 and 1"),
    ],
)
def test_a_bad_threshold_is_refused_at_pinning(
    threshold: object, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        pinned_witnesses({"w1.test": WITNESS_KEYS["w1.test"]}, threshold)
