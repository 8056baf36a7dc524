"""Engines and transactions.

Service functions never commit: the caller opens one transaction per use case with
:meth:`Database.write` (or :meth:`Database.read`), so a change, its audit event and its outbox
messages commit together or not at all.

SQLite serialises writers: a write transaction starts with ``BEGIN IMMEDIATE`` so that the checks a
service makes (for example "is this slot still free?") and the insert that follows cannot interleave
with another writer. Readers use WAL and never block writers.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from colloque.errors import Busy

SQLITE_BUSY_TIMEOUT_MS = 30_000
#: PostgreSQL's refusals of a transaction that lost to a concurrent one: serialization_failure,
#: deadlock_detected, lock_not_available. A service that expects one (the busy ledger's race)
#: turns it into its own answer first; any other is worth the same request again.
TRANSIENT_SQLSTATES = frozenset({"40001", "40P01", "55P03"})


def normalise_url(raw: str) -> URL:
    """Accept the URLs people type (``postgresql://``, ``postgres://``) and pick psycopg 3."""
    url = make_url(raw)
    if url.drivername in {"postgresql", "postgres"}:
        url = url.set(drivername="postgresql+psycopg")
    if url.get_backend_name() not in {"sqlite", "postgresql"}:
        raise ValueError("unsupported database: use sqlite:///PATH or postgresql://...")
    return url


def ensure_sqlite_directory(url: URL) -> None:
    """SQLite creates the file but not its folder: create the data directory on first use."""
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)


def sqlite_url_for(path: Path) -> str:
    return f"sqlite:///{path}"


def _configure_sqlite(engine: Engine, *, begin_statement: str) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when a transaction begins.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql(begin_statement)


#: Connections a process keeps open to PostgreSQL, and the cap on the API's request threads
#: (api/app.py). A request thread holds at most one connection at a time, so with no more threads
#: than pooled connections no request opens a connection that the pool closes again on its return:
#: a new PostgreSQL connection forks a backend, which costs more than the request that asked for it.
POOL_SIZE = 16

#: Connections beyond the pool for the threads outside the cap (the upkeep, the outbox worker).
POOL_OVERFLOW = 8


class Database:
    """One database, seen through a writer and a reader engine.

    On PostgreSQL both are the same pooled engine. On SQLite the writer begins transactions
    with ``BEGIN IMMEDIATE`` and the reader with a deferred ``BEGIN``. Neither puts a
    statement's parameters in its errors or logs (``hide_parameters``): they can be personal data.
    """

    def __init__(self, url: str, *, pool_size: int = POOL_SIZE, echo: bool = False) -> None:
        self.url = normalise_url(url)
        self.pool_size = pool_size
        if self.is_sqlite:
            ensure_sqlite_directory(self.url)
            self.writer_engine = create_engine(self.url, echo=echo, hide_parameters=True)
            _configure_sqlite(self.writer_engine, begin_statement="BEGIN IMMEDIATE")
            self.reader_engine = create_engine(self.url, echo=echo, hide_parameters=True)
            _configure_sqlite(self.reader_engine, begin_statement="BEGIN")
        else:
            self.writer_engine = create_engine(
                self.url,
                echo=echo,
                pool_size=pool_size,
                max_overflow=POOL_OVERFLOW,
                pool_pre_ping=True,
                hide_parameters=True,
            )
            self.reader_engine = self.writer_engine
        #: Copied into every session's ``info``: process-wide settings that services deep in a
        #: transaction read (the mass-change breaker's limits), set once at start-up.
        self.session_info: dict[str, object] = {}
        self._writer = sessionmaker(
            self.writer_engine, expire_on_commit=False, info=self.session_info
        )
        self._reader = sessionmaker(
            self.reader_engine, expire_on_commit=False, info=self.session_info
        )
        self._statement_reader = sessionmaker(
            self.reader_engine.execution_options(isolation_level="AUTOCOMMIT"),
            expire_on_commit=False,
            info=self.session_info,
        )

    @property
    def is_sqlite(self) -> bool:
        return self.url.get_backend_name() == "sqlite"

    @property
    def is_postgres(self) -> bool:
        return self.url.get_backend_name() == "postgresql"

    @contextmanager
    def write(self) -> Iterator[Session]:
        """One write transaction: committed when the block ends, rolled back if it raises."""
        with _transient_as_busy(), self._writer() as session, session.begin():
            yield session

    @contextmanager
    def read(self) -> Iterator[Session]:
        with _transient_as_busy(), self._reader() as session, session.begin():
            yield session

    @contextmanager
    def read_statements(self) -> Iterator[Session]:
        """A read whose statements each see the database as it is when they run, with no
        transaction around them (autocommit): on PostgreSQL, BEGIN and COMMIT are two round trips
        of a public read's four (the week of slots). Only for reads that need no one snapshot;
        a load of several statements that does must check itself (``scheduling.loading``). On
        SQLite a plain read, whose BEGIN is no round trip."""
        if self.is_sqlite:
            with self.read() as session:
                yield session
            return
        with _transient_as_busy(), self._statement_reader() as session:
            yield session

    def dispose(self) -> None:
        self.writer_engine.dispose()
        if self.reader_engine is not self.writer_engine:
            self.reader_engine.dispose()


@contextmanager
def _transient_as_busy() -> Iterator[None]:
    """A transaction PostgreSQL broke off to let a concurrent one through, as :class:`Busy`
    (503 with Retry-After, or the CLI's message) instead of an internal error."""
    try:
        yield
    except DBAPIError as exc:
        if getattr(exc.orig, "sqlstate", None) in TRANSIENT_SQLSTATES:
            raise Busy("a concurrent change got in the way; nothing was saved") from exc
        raise
