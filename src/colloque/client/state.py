"""What a client remembers between runs: the facts that let it refuse a rolled-back server.

Integrity-only state: the latest verified checkpoint of each log, the highest group epoch and
membership sequence seen per practice, key changes the user confirmed, and this user's own key
fingerprints. Nothing in it is secret (no key, no password, no health data), so it is a plain
JSON file; what matters is that a hostile server cannot edit it, because it lives on the device.

Every write goes to a temporary file in the same directory, is flushed to disk, then renamed
over the old file, so a crash leaves the previous state or the new one, never half of each.
:class:`MemoryState` keeps the same facts for one process only (what a client without a state
file gets: it pins from configuration at every start).
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
from pathlib import Path
from typing import Any

#: Bumped when the layout changes in a way older code must not read.
STATE_VERSION = 1

#: The sections a state holds; each maps a text key to a JSON value.
SECTIONS = (
    "checkpoints",  # log origin -> {"log_public_key": b64, "note": signed checkpoint text}
    "group_epochs",  # group id (a practice's, or its practitioners') -> highest epoch verified
    "membership_sequences",  # practice id -> {"sequence", "head": b64} of the chain verified last
    "confirmed_keys",  # user id -> fingerprint the user accepted after a key reset
    "own_keys",  # account id -> {epoch (text): fingerprint} of this user's own key epochs
)


class StateError(Exception):
    """The state file cannot be read (damaged, or from a newer version): refuse to guess."""


class MemoryState:
    """Client state for the life of one process."""

    def __init__(self) -> None:
        self._sections: dict[str, dict[str, Any]] = {name: {} for name in SECTIONS}
        self._lock = threading.Lock()

    def get(self, section: str, key: str) -> Any:
        with self._lock:
            return self._sections[section].get(key)

    def put(self, section: str, key: str, value: Any) -> None:
        with self._lock:
            self._sections[section][key] = value
            self._saved(self._snapshot())

    def _snapshot(self) -> dict[str, Any]:
        return {"version": STATE_VERSION, **{k: dict(v) for k, v in self._sections.items()}}

    def _saved(self, snapshot: dict[str, Any]) -> None:
        """Nothing to persist in memory."""


class FileState(MemoryState):
    """Client state kept in one JSON file, replaced atomically at each change."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        super().__init__()
        self.path = Path(path)
        if self.path.exists():
            self._sections.update(_read(self.path))

    def _saved(self, snapshot: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=self.path.parent, prefix=".colloque-state-")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                json.dump(snapshot, out, indent=1, sort_keys=True)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, self.path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise


def _read(path: Path) -> dict[str, dict[str, Any]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise StateError(f"cannot read the client state {path}: {error}") from None
    if not isinstance(data, dict) or data.get("version") != STATE_VERSION:
        raise StateError(f"the client state {path} is not of version {STATE_VERSION}")
    sections: dict[str, dict[str, Any]] = {}
    for name in SECTIONS:
        section = data.get(name, {})
        if not isinstance(section, dict):
            raise StateError(f"the client state {path} is damaged ({name})")
        sections[name] = section
    return sections
