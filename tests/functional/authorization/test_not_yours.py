"""Not yours looks like not there, and costs the same: for every lookup by id that a caller may
aim at somebody else's object, the answer is byte for byte the answer for a random id, and the
server sends the database the same statements for both (docs/authorization.md, "Not yours looks
like not there"). Timing itself is measured, not tested: ``bench/not_found_timing.py``.

The authorization matrix compares the bytes of every operation against a missing object; what it
cannot reach is here: a real document or item of another patient named under one's own patient.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event
from sqlalchemy.orm import Mapper

from colloque.clock import SettableClock
from colloque.storage.engine import Database
from tests.factories import build_world
from tests.functional.authorization.conftest import make_app
from tests.functional.authorization.lookups import LOOKUP_NAMES, build_theirs, lookups
from tests.functional.authorization.test_id_oracles import fingerprint
from tests.querycount import Statements, count_queries


def _shape(statements: Statements) -> list[str]:
    return [" ".join(sql.split()) for sql in statements]


@contextmanager
def loaded() -> Iterator[list[str]]:
    """The ORM objects built from rows inside the block, by class: a lookup that loads somebody
    else's object and then refuses it sends the same statement as for a missing one, but this
    list tells them apart."""
    names: list[str] = []

    def note(target: object, _context: object) -> None:
        names.append(type(target).__name__)

    event.listen(Mapper, "load", note)
    try:
        yield names
    finally:
        event.remove(Mapper, "load", note)


@pytest.mark.parametrize("name", LOOKUP_NAMES)
def test_somebody_elses_answers_and_costs_like_a_missing_one(
    db: Database, clock: SettableClock, name: str
) -> None:
    world = build_world(db, clock)
    theirs = build_theirs(db, clock, world)
    every = lookups(world, theirs)
    assert set(every) == set(LOOKUP_NAMES)
    lookup, foreign = every[name]
    person = lookup.who(world)
    app, _sleeps = make_app(db, clock)
    with TestClient(app) as client:
        # Twice first, so that what a credential does once is behind us: its last use, and the
        # anomaly counters' row opened, then read once into the process's copy (after which a
        # request naming nobody new sends no statement for it, whatever it asked for).
        for _ in range(2):
            lookup.request(client, person, uuid.uuid4())
        with count_queries(db) as missing_work, loaded() as missing_rows:
            missing = lookup.request(client, person, uuid.uuid4())
        with count_queries(db) as foreign_work, loaded() as foreign_rows:
            answer = lookup.request(client, person, foreign)
    assert missing.status_code == lookup.status, missing.text
    assert fingerprint(answer) == fingerprint(missing)
    # The same statements, in the same order: only their parameters (the ids) differ.
    assert _shape(foreign_work) == _shape(missing_work), (
        f"somebody else's:\n{foreign_work.listing()}\nmissing:\n{missing_work.listing()}"
    )
    # ... and nothing of somebody else's is even loaded.
    assert foreign_rows == missing_rows
