"""Reads without a transaction around them (``Database.read_statements``): the week of slots sends
no BEGIN and no COMMIT on PostgreSQL, and an agenda's definition loaded that way is still one
version of it, even when a change is committed while it is read."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import time, timedelta
from typing import Any

import psycopg
import pytest
from sqlalchemy import delete, event

from colloque.clock import SettableClock
from colloque.errors import Busy, NotFound
from colloque.scheduling.loading import AGENDAS, LoadedAgenda, load_agenda
from colloque.scheduling.models import PracticePractitioner
from colloque.scheduling.services import AgendaRulesInput, do_update_agenda_rules
from colloque.scheduling.timetable import do_add_opening_range
from colloque.storage.engine import Database
from tests.factories import World, build_world

SATURDAY = 5


@pytest.fixture
def world(db: Database, clock: SettableClock) -> World:
    return build_world(db, clock)


def test_a_statement_read_runs_outside_a_transaction_on_postgresql(db: Database) -> None:
    with db.read_statements() as session:
        dbapi = session.connection().connection.dbapi_connection
        if db.is_postgres:
            assert isinstance(dbapi, psycopg.Connection)
            assert dbapi.autocommit is True
        else:
            assert session.in_transaction()
    # The pooled connection goes back as the other sessions expect it: in a transaction.
    with db.read() as session:
        dbapi = session.connection().connection.dbapi_connection
        if db.is_postgres:
            assert isinstance(dbapi, psycopg.Connection)
            assert dbapi.autocommit is False


class ChangeWhileLoading:
    """Commits a change of the agenda's definition, from another connection, each time the load
    reads the agenda's openings: ``times`` times at most."""

    def __init__(self, db: Database, clock: SettableClock, world: World, times: int) -> None:
        self.db, self.clock, self.world = db, clock, world
        self.left = times
        self.changes = 0
        self._changing = False

    def __call__(self, _conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        # The change's own statements pass here too (one engine on PostgreSQL): not again.
        if self._changing or self.left == 0 or "FROM opening_ranges" not in statement:
            return
        self.left -= 1
        self._changing = True
        world = self.world
        with self.db.write() as session:
            # Saturdays, hour after hour: each a new opening, so each a new version.
            do_add_opening_range(
                session,
                now=self.clock.now(),
                principal=world.admin.principal(self.db),
                practice_id=world.practice_id,
                practitioner_id=world.practitioner_id,
                weekday=SATURDAY,
                start_minute=(8 + self.changes) * 60,
                end_minute=(9 + self.changes) * 60,
                visit_type_ids=[world.consultation_id],
            )
            do_update_agenda_rules(
                session,
                now=self.clock.now(),
                principal=world.admin.principal(self.db),
                practice_id=world.practice_id,
                practitioner_id=world.practitioner_id,
                rules=AgendaRulesInput(slot_step_minutes=20 + 5 * self.changes),
            )
        self.changes += 1
        self._changing = False


@pytest.fixture
def pg_world(postgres_db: Database, clock: SettableClock) -> World:
    return build_world(postgres_db, clock)


def load_while(db: Database, world: World, listener: Callable[..., None]) -> LoadedAgenda:
    """The world's agenda loaded statement by statement, ``listener`` seeing each statement."""
    event.listen(db.reader_engine, "before_cursor_execute", listener)
    try:
        with db.read_statements() as session:
            return load_agenda(
                session, practice_id=world.practice_id, practitioner_id=world.practitioner_id
            )
    finally:
        event.remove(db.reader_engine, "before_cursor_execute", listener)


@pytest.fixture
def uncached() -> Iterator[None]:
    AGENDAS.clear()
    yield
    AGENDAS.clear()


@pytest.mark.postgres
@pytest.mark.usefixtures("uncached")
def test_a_definition_changed_while_it_is_read_is_read_again(
    postgres_db: Database, clock: SettableClock, pg_world: World
) -> None:
    db, world = postgres_db, pg_world
    change = ChangeWhileLoading(db, clock, world, times=2)
    loaded = load_while(db, world, change)
    assert change.changes == 2
    saturday = sorted((o.start, o.end) for o in loaded.agenda.weekly if o.weekday == SATURDAY)
    assert saturday == [(time(8), time(9)), (time(9), time(10))]
    assert loaded.agenda.rules.slot_step == timedelta(minutes=25)
    # What the cache now holds is that version, whole: a transaction reads the same.
    with db.read() as session:
        fresh = load_agenda(
            session,
            practice_id=world.practice_id,
            practitioner_id=world.practitioner_id,
            cached=False,
        )
    assert fresh.version == loaded.version
    assert fresh.agenda == loaded.agenda


@pytest.mark.postgres
@pytest.mark.usefixtures("uncached")
def test_a_definition_that_keeps_changing_is_a_503(
    postgres_db: Database, clock: SettableClock, pg_world: World
) -> None:
    db, world = postgres_db, pg_world
    change = ChangeWhileLoading(db, clock, world, times=10)
    with pytest.raises(Busy):
        load_while(db, world, change)
    assert change.changes == 3


@pytest.mark.postgres
@pytest.mark.usefixtures("uncached")
def test_an_agenda_removed_while_it_is_read_is_not_found(
    postgres_db: Database, pg_world: World
) -> None:
    db, world = postgres_db, pg_world
    removed = False

    def remove(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        nonlocal removed
        if removed or "FROM opening_ranges" not in statement:
            return
        removed = True
        with db.write() as session:
            session.execute(
                delete(PracticePractitioner).where(
                    PracticePractitioner.practice_id == world.practice_id,
                    PracticePractitioner.practitioner_id == world.practitioner_id,
                )
            )

    with pytest.raises(NotFound):
        load_while(db, world, remove)
    assert removed
