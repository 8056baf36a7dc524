"""The file witness: one JSON line per checkpoint, appended; the last one found from the tail."""

from __future__ import annotations

from pathlib import Path

import pytest

from colloque.audit.witnesses import ExportUnreadable, FileWitness


def test_append_read_and_last(tmp_path: Path) -> None:
    witness = FileWitness(tmp_path / "w")
    assert witness.last_size("audit") is None
    assert list(witness.read("audit")) == []
    witness.path("audit").parent.mkdir()
    witness.path("audit").write_bytes(b"")
    assert witness.last_size("audit") is None
    for size in (1, 5, 9):
        witness.append("audit", tree_size=size, note=f"note {size}\n\n— x y\n")
    assert witness.last_size("audit") == 9
    assert [(r.line, r.tree_size) for r in witness.read("audit")] == [(1, 1), (2, 5), (3, 9)]


@pytest.mark.parametrize(
    "line", [b"{", b"[]", b'{"size": 1}', b'{"size": "1", "note": ""}', b'{"size": -1, "note": ""}']
)
def test_foreign_lines_are_refused(tmp_path: Path, line: bytes) -> None:
    witness = FileWitness(tmp_path)
    witness.path("audit").write_bytes(line + b"\n")
    with pytest.raises(ExportUnreadable, match="line 1 is not a checkpoint record"):
        list(witness.read("audit"))
