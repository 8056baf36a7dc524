"""The witness's memory: per log, the latest checkpoint it cosigned, in a SQLite file.

Checking a submission against the stored checkpoint and storing the new one happen in one
``BEGIN IMMEDIATE`` transaction, so two submissions cannot both pass against the same old size
and then roll each other back (the race tlog-witness warns about).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

DATABASE_FILE = "witness.sqlite3"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS cosigned (
    origin TEXT PRIMARY KEY,
    tree_size INTEGER NOT NULL CHECK (tree_size >= 0),
    root_hash BLOB NOT NULL CHECK (length(root_hash) = 32),
    note TEXT NOT NULL,
    cosigned_at INTEGER NOT NULL
)
"""


@dataclass(frozen=True)
class Latest:
    tree_size: int
    root_hash: bytes


class Store:
    def __init__(self, data_dir: Path) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        self.path = data_dir / DATABASE_FILE
        with self._connection() as connection:
            connection.execute(_SCHEMA)

    @contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        connection = sqlite3.connect(self.path, isolation_level=None, timeout=30)
        try:
            yield connection
        finally:
            connection.close()

    def latest(self, origin: str) -> Latest | None:
        with self._connection() as connection:
            row = connection.execute(
                "SELECT tree_size, root_hash FROM cosigned WHERE origin = ?", (origin,)
            ).fetchone()
        return None if row is None else Latest(row[0], bytes(row[1]))

    def advance(
        self,
        origin: str,
        check: Callable[[Latest | None], None],
        new: Latest,
        *,
        note: str,
        now: int,
    ) -> None:
        """Store ``new`` for ``origin`` if ``check`` (given the stored checkpoint) does not raise,
        both in one write transaction."""
        with self._connection() as connection:
            connection.execute("BEGIN IMMEDIATE")
            try:
                row = connection.execute(
                    "SELECT tree_size, root_hash FROM cosigned WHERE origin = ?", (origin,)
                ).fetchone()
                check(None if row is None else Latest(row[0], bytes(row[1])))
                connection.execute(
                    "INSERT INTO cosigned (origin, tree_size, root_hash, note, cosigned_at)"
                    " VALUES (?, ?, ?, ?, ?) ON CONFLICT (origin) DO UPDATE SET"
                    " tree_size = excluded.tree_size, root_hash = excluded.root_hash,"
                    " note = excluded.note, cosigned_at = excluded.cosigned_at",
                    (origin, new.tree_size, new.root_hash, note, now),
                )
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            connection.execute("COMMIT")
