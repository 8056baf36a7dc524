"""Each credential's counters row, read and written for ``containment.services``.

The row is read and written with Core statements built once, outside the ORM: on this hot path
(every audited read of a staff credential) the ORM's loading and flush cost more than the
statements. Each process keeps a copy of every row as it last saw it committed (:data:`SEEN`),
and a write made from a copy applies only if the row is still at the copy's revision
(docs/containment.md, "Cost").
"""

from __future__ import annotations

import copy
import functools
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast
from uuid import UUID

from sqlalchemy import CursorResult, Table, Update, bindparam, event, select, update
from sqlalchemy.orm import Session

from colloque.containment.models import CredentialWindow
from colloque.storage.upsert import insert_on_conflict


@dataclass(slots=True)
class Row:
    """A credential's counters row (``CredentialWindow``'s columns), outside any session: on
    this hot path it is read and written with Core statements, which cost a third of the ORM's
    loading and flush."""

    credential_id: UUID
    practice_id: UUID
    window_start: datetime
    point_limit: float
    points: float
    persons: bytes
    appointments: bytes
    changes: int
    day_start: datetime
    day_limit: float
    day_points: float
    day_persons: bytes
    day_appointments: bytes
    day_changes: int
    revision: int


#: Each credential's row as this process last saw it committed (read, or written by a
#: transaction that then committed). Within an hour a row only gains ids, so an event whose ids
#: are all in this copy adds nothing to the row either: a desk reloading its day costs no
#: statement. When an event does add something, the copy is what it is added to, written in one
#: statement on the condition that the row is still at the copy's revision.
SEEN: dict[tuple[UUID, UUID], Row] = {}
#: 8 KB each: at most 8 MB per process.
SEEN_KEPT = 1_024


_WINDOWS = cast(Table, CredentialWindow.__table__)
_COLUMNS = tuple(column.key for column in _WINDOWS.c)

#: Built once: building a statement costs as much as running it on this path.
_LOAD = select(_WINDOWS).where(
    _WINDOWS.c.credential_id == bindparam("key_credential"),
    _WINDOWS.c.practice_id == bindparam("key_practice"),
)
_LOAD_LOCKED = _LOAD.with_for_update()


def load(session: Session, key: tuple[UUID, UUID], *, lock: bool) -> Row | None:
    """The row as committed, or as this transaction left it."""
    found = session.execute(
        _LOAD_LOCKED if lock else _LOAD, {"key_credential": key[0], "key_practice": key[1]}
    ).one_or_none()
    return None if found is None else Row(**found._mapping)


@functools.lru_cache(maxsize=64)
def _update(names: tuple[str, ...]) -> Update:
    """Set ``names`` and a new revision, where the row is at the expected one."""
    return (
        update(_WINDOWS)
        .where(
            _WINDOWS.c.credential_id == bindparam("key_credential"),
            _WINDOWS.c.practice_id == bindparam("key_practice"),
            _WINDOWS.c.revision == bindparam("expected_revision"),
        )
        .values({name: bindparam(f"new_{name}") for name in (*names, "revision")})
    )


def values(row: Row) -> dict[str, object]:
    return {name: getattr(row, name) for name in _COLUMNS}


def new_revision() -> int:
    """Random, not counted: a write that was undone (a rolled-back savepoint) and another that
    came after it never share one, so a copy of either can only miss."""
    return secrets.randbits(63)


def store(session: Session, row: Row, before: dict[str, object]) -> bool:
    """Write what changed since ``before`` (an unchanged sketch is neither sent nor TOASTed
    again) if the row is still at ``row``'s revision, and give ``row`` the new one. False when
    it was not: nothing written."""
    changed = {name: value for name, value in values(row).items() if before[name] != value}
    revision = new_revision()
    written = session.execute(
        _update(tuple(changed)),
        {"key_credential": row.credential_id, "key_practice": row.practice_id}
        | {"expected_revision": row.revision, "new_revision": revision}
        | {f"new_{name}": value for name, value in changed.items()},
    )
    if cast(CursorResult[Any], written).rowcount != 1:
        return False
    row.revision = revision
    return True


def remember(key: tuple[UUID, UUID], row: Row) -> None:
    if key not in SEEN and len(SEEN) >= SEEN_KEPT:
        SEEN.clear()
    SEEN[key] = copy.copy(row)


_COMMITTED_COPIES = "containment.committed_copies"


def remember_when_committed(session: Session, key: tuple[UUID, UUID], row: Row) -> None:
    """Keep a copy of the row as written once its transaction commits (a copy of a write that
    was rolled back would credit the counters with ids nobody read)."""
    session.info.setdefault(_COMMITTED_COPIES, {})[key] = copy.copy(row)


@event.listens_for(Session, "after_commit")
def _publish_copies(session: Session) -> None:
    if session.in_nested_transaction():
        # A savepoint released (SQLAlchemy tells that as a commit too): the transaction that
        # holds the writes may still roll back.
        return
    copies = session.info.pop(_COMMITTED_COPIES, None)
    if copies:
        if len(SEEN) + len(copies) > SEEN_KEPT:
            SEEN.clear()
        SEEN.update(copies)


@event.listens_for(Session, "after_soft_rollback")
def _drop_copies(session: Session, _previous: object) -> None:
    # Any rollback, a savepoint's too: a copy left out is only a statement more later.
    session.info.pop(_COMMITTED_COPIES, None)


def insert(session: Session, window: Row) -> bool:
    """Insert the new window's row, unless a concurrent request of the credential just did.
    True when inserted."""
    inserted = session.execute(
        insert_on_conflict(session, _WINDOWS)
        .values(values(window))
        .on_conflict_do_nothing()
        .returning(_WINDOWS.c.credential_id)
    )
    return inserted.first() is not None
