"""Bulk writes that bypass the ORM: ``COPY`` on PostgreSQL, multi-row inserts elsewhere.

Only the demo generator writes this way: it creates data that the service functions would create,
many times faster, and keeps the same invariants (see :mod:`colloque.demo.filler`). Rows go
through the session's own connection, so they commit with the session's transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg
from psycopg import sql
from sqlalchemy import Table, insert, text
from sqlalchemy.orm import Session

from colloque.schema import load_metadata
from colloque.storage.types import UTCDateTime

Row = dict[str, Any]

#: Rows per INSERT statement round (SQLite).
BATCH_ROWS = 5_000


def table(name: str) -> Table:
    return load_metadata().tables[name]


def insert_rows(session: Session, table_name: str, rows: Sequence[Row]) -> None:
    """Insert ``rows`` (dicts with the same keys, datetimes timezone-aware) into ``table_name``."""
    if not rows:
        return
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        raw = connection.connection.dbapi_connection
        if isinstance(raw, psycopg.Connection):
            _copy(raw, table_name, rows)
            return
    statement = insert(table(table_name))
    for offset in range(0, len(rows), BATCH_ROWS):
        session.execute(statement, list(rows[offset : offset + BATCH_ROWS]))


def analyze(session: Session, table_names: Sequence[str]) -> None:
    """Refresh PostgreSQL's planner statistics after a bulk load (autovacuum would, later)."""
    if session.connection().dialect.name != "postgresql":
        return
    for name in table_names:
        session.execute(text(f"ANALYZE {table(name).name}"))


def _copy(raw: psycopg.Connection[Any], table_name: str, rows: Sequence[Row]) -> None:
    """``COPY ... FROM STDIN``. The column types' own checks are bypassed, so the one that
    matters is repeated here: instants must be timezone-aware (``UTCDateTime`` refuses naive)."""
    columns = list(rows[0])
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table_name), sql.SQL(", ").join(map(sql.Identifier, columns))
    )
    columns_types = table(table_name).c
    instants = [c for c in columns if isinstance(columns_types[c].type, UTCDateTime)]
    with raw.cursor() as cursor, cursor.copy(statement) as copy:
        for row in rows:
            for column in instants:
                value = row[column]
                if value is not None and value.tzinfo is None:
                    raise ValueError(f"naive datetime refused in {table_name}.{column}")
            copy.write_row([row[c] for c in columns])
