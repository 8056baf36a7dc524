"""Bulk writes that bypass the ORM: ``COPY`` on PostgreSQL, multi-row inserts elsewhere.

For rows made by the thousand whose invariants the caller already holds: the demo generator's
data, the search cache's rebuilt slots. Rows go through the session's own connection, so they
commit with the session's transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg
from psycopg import sql
from sqlalchemy import Table, insert
from sqlalchemy.orm import Session

from colloque.storage.types import UTCDateTime

Row = dict[str, Any]

#: Rows per INSERT statement round (SQLite).
BATCH_ROWS = 5_000


def insert_rows(session: Session, table: Table, rows: Sequence[Row]) -> None:
    """Insert ``rows`` (dicts with the same keys, datetimes timezone-aware) into ``table``."""
    if not rows:
        return
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        raw = connection.connection.dbapi_connection
        if isinstance(raw, psycopg.Connection):
            _copy(raw, table, rows)
            return
    statement = insert(table)
    for offset in range(0, len(rows), BATCH_ROWS):
        session.execute(statement, list(rows[offset : offset + BATCH_ROWS]))


def _copy(raw: psycopg.Connection[Any], table: Table, rows: Sequence[Row]) -> None:
    """``COPY ... FROM STDIN``. The column types' own checks are bypassed, so the one that
    matters is repeated here: instants must be timezone-aware (``UTCDateTime`` refuses naive)."""
    columns = list(rows[0])
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table.name), sql.SQL(", ").join(map(sql.Identifier, columns))
    )
    instants = [c for c in columns if isinstance(table.c[c].type, UTCDateTime)]
    with raw.cursor() as cursor, cursor.copy(statement) as copy:
        for row in rows:
            for column in instants:
                value = row[column]
                if value is not None and value.tzinfo is None:
                    raise ValueError(f"naive datetime refused in {table.name}.{column}")
            copy.write_row([row[c] for c in columns])
