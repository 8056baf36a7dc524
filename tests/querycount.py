"""Counting the SQL statements a block of code sends, as Zulip's ``assert_database_query_count``.

Hot paths pin their exact count, so that a query in a loop (N+1) fails a test instead of slowing
production down::

    with assert_database_query_count(db, 7):
        do_book_appointment(session, ...)

Every statement sent through the database's engines counts (``before_cursor_execute``),
including SQLite's ``BEGIN`` when the block opens the transaction. On a mismatch the failure
lists the statements, numbered.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import Engine, event

from colloque.storage.engine import Database


class Statements(list[str]):
    """The statements sent while counting, in order."""

    def listing(self) -> str:
        return "\n".join(
            f"{number:3}. {' '.join(sql.split())}" for number, sql in enumerate(self, 1)
        )


def _engines(db: Database) -> list[Engine]:
    return list({id(e): e for e in (db.writer_engine, db.reader_engine)}.values())


@contextmanager
def count_queries(db: Database) -> Iterator[Statements]:
    """Record every statement sent to ``db`` inside the block."""
    statements = Statements()

    def note(
        _connection: Any,
        _cursor: Any,
        statement: str,
        _parameters: Any,
        _context: Any,
        _executemany: bool,
    ) -> None:
        statements.append(statement)

    engines = _engines(db)
    for engine in engines:
        event.listen(engine, "before_cursor_execute", note)
    try:
        yield statements
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", note)


def expected_count(db: Database, expected: int | Mapping[str, int]) -> int:
    """``expected`` itself, or its entry for this database's dialect (``sqlite``, ``postgresql``)."""
    if isinstance(expected, int):
        return expected
    return expected[db.writer_engine.dialect.name]


@contextmanager
def assert_database_query_count(
    db: Database, expected: int | Mapping[str, int]
) -> Iterator[Statements]:
    """Fail unless the block sends exactly ``expected`` statements (per dialect if a mapping)."""
    want = expected_count(db, expected)
    with count_queries(db) as statements:
        yield statements
    if len(statements) != want:
        pytest.fail(
            f"expected {want} SQL statements on {db.writer_engine.dialect.name}, "
            f"{len(statements)} were sent:\n{statements.listing()}",
            pytrace=False,
        )
