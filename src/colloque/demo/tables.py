"""The demo generator's bulk writes (:mod:`colloque.storage.bulk`) by table name.

The generator creates data that the service functions would create, many times faster, and keeps
the same invariants (see :mod:`colloque.demo.filler`).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Table, text
from sqlalchemy.orm import Session

from colloque.schema import load_metadata
from colloque.storage import bulk
from colloque.storage.bulk import Row

__all__ = ["Row", "analyze", "insert_rows", "table"]


def table(name: str) -> Table:
    return load_metadata().tables[name]


def insert_rows(session: Session, table_name: str, rows: Sequence[Row]) -> None:
    """Insert ``rows`` (dicts with the same keys, datetimes timezone-aware) into ``table_name``."""
    bulk.insert_rows(session, table(table_name), rows)


def analyze(session: Session, table_names: Sequence[str]) -> None:
    """Refresh PostgreSQL's planner statistics after a bulk load (autovacuum would, later)."""
    if session.connection().dialect.name != "postgresql":
        return
    for name in table_names:
        session.execute(text(f"ANALYZE {table(name).name}"))
