"""Bulk writes that bypass the ORM: ``COPY`` on PostgreSQL, multi-row inserts elsewhere.

For rows made by the thousand whose invariants the caller already holds: the demo generator's
data, the search cache's rebuilt slots. Rows go through the session's own connection, so they
commit with the session's transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql
from sqlalchemy import Table, insert, text
from sqlalchemy.orm import Session

from colloque.storage.engine import Database
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
    """``COPY ... FROM STDIN`` in the binary format: a sixth of the client's time of the text
    format, and less of the server's (measured: docs/benchmarks.md, set-up). The column types'
    own checks are bypassed, so the one that matters is repeated here: instants must be
    timezone-aware (``UTCDateTime`` refuses naive)."""
    columns = list(rows[0])
    # The binary format carries no type names: each column's comes from the server, which knows
    # it whatever the table's definition says in Python.
    found = dict(
        raw.execute(
            "SELECT attname, atttypid FROM pg_attribute "
            "WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped",
            (table.name,),
        ).fetchall()
    )
    statement = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT BINARY)").format(
        sql.Identifier(table.name), sql.SQL(", ").join(map(sql.Identifier, columns))
    )
    instants = [c for c in columns if isinstance(table.c[c].type, UTCDateTime)]
    with raw.cursor() as cursor, cursor.copy(statement) as copy:
        copy.set_types([found[c] for c in columns])
        for row in rows:
            for column in instants:
                value = row[column]
                if value is not None and value.tzinfo is None:
                    raise ValueError(f"naive datetime refused in {table.name}.{column}")
            copy.write_row([row[c] for c in columns])


@dataclass(frozen=True, slots=True)
class _Deferred:
    """A constraint or index taken off a table for a bulk load, and how to put it back."""

    table: str
    name: str
    exclusion: bool
    #: Built from the server's own definition (``pg_get_constraintdef``, ``pg_get_indexdef``),
    #: so the rebuilt one is what the migrations made, whatever they said.
    restore: sql.SQL | sql.Composed


#: Constraint kinds taken off: exclusion and foreign keys, which PostgreSQL checks row by row with
#: an index probe each. Primary keys and unique constraints stay (other tables' keys point at
#: them, and a B-tree insert is cheap); so do checks, which cost nothing beyond the row.
_DEFERRED_KINDS = ("x", "f")


@contextmanager
def constraints_deferred(
    db: Database,
    table_names: Sequence[str],
    *,
    report: Callable[[int, int], None] | None = None,
) -> Iterator[None]:
    """On PostgreSQL, drop the exclusion constraints, foreign keys and plain indexes of
    ``table_names`` for the block, then rebuild them: one bulk build instead of a check and an
    index insert per row. Rebuilding checks every row, so data that breaks a constraint fails here,
    as it would have at insert. For a load nothing else writes to meanwhile (the demo generator on
    its empty database): until the rebuild, nothing stops an overlap. No-op on SQLite.

    ``report(rebuilt, total)`` follows the rebuild. The rebuild also runs if the block fails, so
    that the schema is whole again; if it fails too, its error is raised with the block's as its
    context. A constraint the data breaks stays off (the error names it); the others come back.
    """
    if db.is_sqlite:
        yield
        return
    with db.write() as session:
        deferred = _drop(session, table_names)
    try:
        yield
    finally:
        _rebuild(db, deferred, report)


def _rebuild(
    db: Database, deferred: Sequence[_Deferred], report: Callable[[int, int], None] | None
) -> None:
    """One transaction each, so that one refused constraint leaves the others in place; the first
    refusal is raised once all were tried.

    The exclusion constraints come first, side by side when each is on its own table (each locks
    only its table): a GiST build and a probe per row, on one core each. The rest follow one at
    a time; PostgreSQL already builds a B-tree with parallel workers."""
    exclusions = [item for item in deferred if item.exclusion]
    if len({item.table for item in exclusions}) < len(exclusions):
        exclusions = []
    total = len(deferred)
    failures: list[Exception | None] = []

    def progress() -> None:
        if report is not None:
            report(len(failures), total)

    progress()
    if exclusions:
        with ThreadPoolExecutor(len(exclusions), thread_name_prefix="rebuild") as pool:
            for failure in pool.map(lambda item: _restore(db, item), exclusions):
                failures.append(failure)
                progress()
    for item in deferred:
        if item not in exclusions:
            failures.append(_restore(db, item))
            progress()
    first = next((failure for failure in failures if failure is not None), None)
    if first is not None:
        raise first


def _restore(db: Database, item: _Deferred) -> Exception | None:
    try:
        with db.write() as session:
            raw = _raw(session)
            # Sorts for bulk builds: the server's default (64 MB) spills to disk at a million rows.
            raw.execute(f"SET LOCAL maintenance_work_mem = '{REBUILD_MEMORY}'")
            raw.execute(item.restore)
    except Exception as exc:
        return exc
    return None


#: Memory per index build during the rebuild.
REBUILD_MEMORY = "256MB"


def _drop(session: Session, table_names: Sequence[str]) -> list[_Deferred]:
    tables = list(table_names)
    constraints = session.execute(
        text(
            "SELECT c.conrelid::regclass::text, c.conname, c.contype::text, "
            "pg_get_constraintdef(c.oid) "
            "FROM pg_constraint c WHERE c.conrelid::regclass::text = ANY(:tables) "
            "AND c.contype = ANY(:kinds) ORDER BY c.contype, c.conname"
        ),
        {"tables": tables, "kinds": list(_DEFERRED_KINDS)},
    ).all()
    # Plain indexes: the ones no constraint owns (those go and come back with their constraint).
    indexes = session.execute(
        text(
            "SELECT i.indrelid::regclass::text, i.indexrelid::regclass::text, "
            "pg_get_indexdef(i.indexrelid) FROM pg_index i "
            "WHERE i.indrelid::regclass::text = ANY(:tables) AND NOT EXISTS "
            "(SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid) "
            "ORDER BY 2"
        ),
        {"tables": tables},
    ).all()
    raw = _raw(session)
    deferred: list[_Deferred] = []
    for table, name, kind, definition in constraints:
        target = sql.SQL("ALTER TABLE {} {} CONSTRAINT {}")
        table_id, name_id = sql.Identifier(table), sql.Identifier(name)
        raw.execute(target.format(table_id, sql.SQL("DROP"), name_id))
        restore = target.format(table_id, sql.SQL("ADD"), name_id) + sql.SQL(" " + definition)
        deferred.append(_Deferred(table, name, kind == "x", restore))
    for table, name, definition in indexes:
        raw.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(name)))
        deferred.append(_Deferred(table, name, False, sql.SQL(definition)))
    return deferred


def _raw(session: Session) -> psycopg.Connection[Any]:
    """The session's psycopg connection, in its transaction: catalog definitions go to the server
    as they are, with no bind-parameter parsing of their colons and percent signs."""
    raw = session.connection().connection.dbapi_connection
    if not isinstance(raw, psycopg.Connection):
        raise TypeError("constraints_deferred needs psycopg")
    return raw
