"""Shared fixtures: real databases (a SQLite file, the real PostgreSQL server), a settable clock.

PostgreSQL tests use COLLOQUE_TEST_POSTGRES_URL (default: the local server's ``test`` database)
to create a private database for this run. Without a reachable server they are skipped with one
line saying how to run them, except in CI (CI=true), where that is a failure.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from colloque.audit.context import RequestContext, bound
from colloque.clock import SettableClock
from colloque.scheduling.loading import AGENDAS
from colloque.schema import load_metadata
from colloque.storage.engine import Database, normalise_url
from colloque.storage.migrate import upgrade
from tests.querycount import Statements, assert_database_query_count

DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"
#: A Monday morning in Paris, in winter time.
T0 = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)


def pytest_report_header() -> str:
    return f"postgres: {os.environ.get('COLLOQUE_TEST_POSTGRES_URL', DEFAULT_POSTGRES_URL)}"


@pytest.fixture(autouse=True)
def _fresh_audit_context() -> Iterator[None]:
    """A CLI command run in-process binds its interface for the whole process (as it should in
    its own process): undo that after each test, so the next one starts from nothing bound."""
    with bound(RequestContext()):
        yield


@pytest.fixture
def clock() -> SettableClock:
    return SettableClock(T0)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture
def sqlite_db(sqlite_template: Path, tmp_path: Path) -> Iterator[Database]:
    path = tmp_path / "colloque.sqlite3"
    shutil.copyfile(sqlite_template, path)
    database = Database(f"sqlite:///{path}")
    yield database
    database.dispose()


def _postgres_admin_url() -> str:
    return os.environ.get("COLLOQUE_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    admin_url = normalise_url(_postgres_admin_url())
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as exc:
        admin.dispose()
        message = (
            f"PostgreSQL not reachable at {admin_url.render_as_string(hide_password=True)} "
            f"({type(exc).__name__}); start it or set COLLOQUE_TEST_POSTGRES_URL to run these tests"
        )
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    name = f"colloque_test_{uuid.uuid4().hex[:12]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
        # A test's commits need not survive a crash of the server; waiting for each WAL flush
        # cost about a millisecond per commit, over tens of thousands of them.
        connection.execute(text(f'ALTER DATABASE "{name}" SET synchronous_commit = off'))
    url = admin_url.set(database=name).render_as_string(hide_password=False)
    upgrade(url)
    yield url
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def empty_all(database: Database) -> None:
    """Delete every row of a PostgreSQL test database, as its superuser.

    Not TRUNCATE: over the schema's tables it took about 150 ms, a new file for each table,
    against about 10 ms for DELETE on the few rows a test leaves. The replica role skips the
    triggers, both the foreign keys' (so the order does not matter) and the audit tables'
    append-only ones (which refuse DELETE, as they should to the application)."""
    with database.writer_engine.begin() as connection:
        connection.execute(text("SET LOCAL session_replication_role = replica"))
        for table in load_metadata().tables:
            connection.execute(text(f'DELETE FROM "{table}"'))


@pytest.fixture
def postgres_db(postgres_url: str) -> Iterator[Database]:
    database = Database(postgres_url, pool_size=20)
    empty_all(database)
    # Same database URL, fresh rows: snapshots of the previous test's agendas must go.
    AGENDAS.clear()
    yield database
    database.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db(request: pytest.FixtureRequest) -> Database:
    """The same test against a SQLite file and against the real PostgreSQL server."""
    fixture = "sqlite_db" if request.param == "sqlite" else "postgres_db"
    database: Database = request.getfixturevalue(fixture)
    return database


def database_name(url: str) -> str:
    return make_url(url).database or ""


QueryCount = Callable[[int | Mapping[str, int]], AbstractContextManager[Statements]]


@pytest.fixture
def assert_query_count(db: Database) -> QueryCount:
    """``with assert_query_count(7):`` (or ``{"sqlite": 8, "postgresql": 7}``) fails unless the
    block sends exactly that many SQL statements to the ``db`` fixture's database, listing them."""

    def counting(expected: int | Mapping[str, int]) -> AbstractContextManager[Statements]:
        return assert_database_query_count(db, expected)

    return counting
