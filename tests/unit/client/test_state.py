"""The client state file: written atomically, read back, refused when damaged or newer."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from colloque.client.state import STATE_VERSION, FileState, MemoryState, StateError


def test_a_file_state_is_read_back_by_the_next_process(tmp_path: Path) -> None:
    path = tmp_path / "device" / "state.json"
    state = FileState(path)
    assert state.get("checkpoints", "log") is None
    state.put("checkpoints", "log", {"note": "n"})
    assert FileState(path).get("checkpoints", "log") == {"note": "n"}
    assert json.loads(path.read_text())["version"] == STATE_VERSION
    assert [p.name for p in path.parent.iterdir()] == ["state.json"]  # no temporary left


def test_a_memory_state_keeps_nothing_on_disk(tmp_path: Path) -> None:
    state = MemoryState()
    state.put("group_epochs", "p", 3)
    assert state.get("group_epochs", "p") == 3
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"{not json", "cannot read"),
        (b"\xff\xfe", "cannot read"),
        (json.dumps({"version": STATE_VERSION + 1}).encode(), "not of version"),
        (json.dumps([1]).encode(), "not of version"),
        (json.dumps({"version": STATE_VERSION, "checkpoints": []}).encode(), "damaged"),
    ],
)
def test_a_damaged_or_newer_state_is_refused(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "state.json"
    path.write_bytes(content)
    with pytest.raises(StateError, match=message):
        FileState(path)


def test_a_failed_write_leaves_the_old_state_and_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "state.json"
    state = FileState(path)
    state.put("checkpoints", "log", 1)

    def broken(_src: object, _dst: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken)
    with pytest.raises(OSError, match="disk full"):
        state.put("checkpoints", "log", 2)
    monkeypatch.undo()
    assert FileState(path).get("checkpoints", "log") == 1
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]
