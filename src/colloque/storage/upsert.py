"""``INSERT ... ON CONFLICT`` on either database.

PostgreSQL and SQLite spell the clause alike, but SQLAlchemy builds it only from each dialect's
own ``insert``: this picks the session's, so callers write the statement once.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def insert_on_conflict(session: Session, target: Any) -> postgresql.Insert | sqlite.Insert:
    """An ``INSERT`` into ``target`` (a mapped class or a table) that can take
    ``on_conflict_do_nothing`` or ``on_conflict_do_update``."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(target)
    return sqlite.insert(target)
