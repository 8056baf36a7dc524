"""The generator's bulk load on PostgreSQL: constraints and indexes off during the load, rebuilt
after exactly as the migrations made them, and checked against the loaded rows."""

from __future__ import annotations

import random
import re
import uuid
from collections.abc import Iterator
from datetime import date, timedelta

import psycopg
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import IntegrityError

from colloque.demo.filler import AgendaGrid, Piece
from colloque.demo.generator import DEFERRED_TABLES, STAGE_CONSTRAINTS, generate_demo
from colloque.storage.engine import Database, normalise_url
from colloque.storage.migrate import upgrade
from tests.unit.demo.support import APPOINTMENTS, DEMO_NOW, DEMO_SEED, PATIENTS, PRACTITIONERS

pytestmark = pytest.mark.postgres

#: PostgreSQL prints a reparsed ``status IN ('held', 'booked')`` with a cast on each element
#: rather than one on the array: the same predicate, another text. Casts and parentheses are
#: left out of the comparison; names, kinds, tables, columns and operators stay in.
_CASTS = re.compile(r"::(character varying|text|timestamp with time zone|uuid)(\[\])?")


def _normal(definition: str) -> str:
    return re.sub(r"[()]", "", _CASTS.sub("", definition))


def _schema(db: Database) -> set[tuple[str, ...]]:
    """Every constraint and index of the public schema, with whether it is valid."""
    with db.read() as session:
        constraints = session.execute(
            text(
                "SELECT conrelid::regclass::text, conname, contype::text, "
                "pg_get_constraintdef(oid), convalidated::text FROM pg_constraint "
                "WHERE connamespace = 'public'::regnamespace"
            )
        )
        indexes = session.execute(
            text(
                "SELECT indrelid::regclass::text, indexrelid::regclass::text, 'index', "
                "pg_get_indexdef(indexrelid), (indisvalid AND indisready)::text FROM pg_index "
                "WHERE indrelid::regclass::text NOT LIKE 'pg\\_%'"
            )
        )
        return {(t, n, k, _normal(d), v) for t, n, k, d, v in [*constraints, *indexes]}


def test_a_bulk_loaded_database_has_every_constraint_and_index_of_the_migrations(
    postgres_db: Database,
) -> None:
    migrated = _schema(postgres_db)
    calls: list[tuple[str, int, int]] = []
    generate_demo(
        postgres_db,
        seed=DEMO_SEED,
        practitioners=PRACTITIONERS,
        patients=PATIENTS,
        appointments=APPOINTMENTS,
        now=DEMO_NOW,
        progress=lambda stage, done, total: calls.append((stage, done, total)),
    )
    assert _schema(postgres_db) == migrated
    rebuilt = [(done, total) for stage, done, total in calls if stage == STAGE_CONSTRAINTS]
    # The appointments' exclusion constraint and five indexes at least were taken off.
    assert rebuilt[-1][0] == rebuilt[-1][1] > 6
    # And they hold again: a second active appointment over a loaded one is refused.
    with postgres_db.write() as session:
        row = (
            session.execute(
                text(
                    "SELECT * FROM appointments WHERE status = 'booked' ORDER BY starts_at LIMIT 1"
                )
            )
            .one()
            ._asdict()
        )
    row["appointment_id"] = uuid.uuid4()
    row["starts_at"] += timedelta(minutes=1)
    columns = ", ".join(row)
    values = ", ".join(f":{c}" for c in row)
    with (
        pytest.raises(IntegrityError, match="ex_appointments_no_overlap"),
        postgres_db.write() as session,
    ):
        session.execute(text(f"INSERT INTO appointments ({columns}) VALUES ({values})"), row)


@pytest.fixture
def fresh_postgres(postgres_url: str) -> Iterator[Database]:
    """A database of its own, migrated: the test below leaves a constraint off on purpose."""
    admin = create_engine(normalise_url(postgres_url), isolation_level="AUTOCOMMIT")
    name = f"colloque_test_{uuid.uuid4().hex[:12]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = normalise_url(postgres_url).set(database=name).render_as_string(hide_password=False)
    upgrade(url)
    database = Database(url)
    yield database
    database.dispose()
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_a_generator_that_double_books_fails_at_the_rebuild(
    fresh_postgres: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nothing checks the rows during the load; the rebuild does, loudly, and puts back every
    constraint the data does not break."""
    place = AgendaGrid.place

    def twice(
        self: AgendaGrid, rng: random.Random, count: int, busy: dict[date, list[Piece]]
    ) -> list[tuple[date, int, int]]:
        placed = place(self, rng, count, busy)
        return [*placed, *placed]

    monkeypatch.setattr(AgendaGrid, "place", twice)
    before = _schema(fresh_postgres)
    # The server's own error, as the rebuild sends the catalog's definitions through psycopg.
    with pytest.raises(psycopg.errors.ExclusionViolation, match="no_overlap"):
        generate_demo(
            fresh_postgres,
            seed=DEMO_SEED,
            practitioners=3,
            patients=20,
            appointments=100,
            now=DEMO_NOW,
        )
    missing = {item[1] for item in before - _schema(fresh_postgres)}
    assert missing == {"ex_appointments_no_overlap", "ex_practitioner_busy_no_overlap"}
    assert set(DEFERRED_TABLES) >= {"appointments", "practitioner_busy"}
