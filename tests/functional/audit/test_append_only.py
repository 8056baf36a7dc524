"""The audit log cannot be edited by the application, tried for real.

On PostgreSQL the application connects as its own role (``COLLOQUE_DATABASE_APP_ROLE``), which the
migrations grant SELECT and INSERT only on the audit tables, owned by a role it cannot become
(``colloque.storage.roles``). Each test module run makes its own LOGIN role and database, dropped
afterwards: roles are shared by every database of the server. On SQLite, triggers refuse (0023).
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
import typer
from sqlalchemy import create_engine, delete, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, ProgrammingError

from colloque.audit.models import AuditClientAddress, AuditEvent, AuditEventSubject, AuditPending
from colloque.audit.upkeep import Sealing
from colloque.cli.common import check_database_role
from colloque.clock import SettableClock
from colloque.config import Environment, Settings
from colloque.storage.engine import Database
from colloque.storage.migrate import upgrade
from colloque.storage.roles import (
    AUDIT_OWNER,
    DatabaseRoleError,
    is_permission_denied,
    privileges_of_current_role,
)
from tests.conftest import T0
from tests.factories import book, build_world
from tests.functional.audit.conftest import verify

#: Every table the application may only read and append to (a name starting with ``audit_``),
#: with one of its columns.
APPEND_ONLY = {
    "audit_events": "at",
    "audit_event_subjects": "at",
    "audit_log_leaves": "leaf_hash",
    "audit_log_heads": "at",
    "audit_checkpoints": "signed_at",
    "audit_cosignatures": "created_at",
}
#: The tables SQLite's triggers guard that the application writes on its own.
SQLITE_TRIGGERED = ("audit_events", "audit_event_subjects")
EDITS = (
    "UPDATE {table} SET {column} = {column}",
    "DELETE FROM {table}",
    "TRUNCATE {table}",
    "ALTER TABLE {table} DISABLE TRIGGER USER",
)


@dataclass(frozen=True)
class RoleDatabase:
    """A migrated database and the application's LOGIN role, as a deployment has them."""

    admin_url: str
    app_url: str
    app_role: str


@pytest.fixture(scope="module")
def role_database(postgres_url: str) -> Iterator[RoleDatabase]:
    run = uuid.uuid4().hex[:12]
    name, role = f"colloque_roles_{run}", f"colloque_app_{run}"
    server = create_engine(
        make_url(postgres_url).set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT"
    )
    with server.connect() as connection:
        connection.execute(text(f'CREATE ROLE "{role}" LOGIN'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin_url = make_url(postgres_url).set(database=name)
    try:
        upgrade(admin_url.render_as_string(hide_password=False), app_role=role)
        yield RoleDatabase(
            admin_url=admin_url.render_as_string(hide_password=False),
            app_url=admin_url.set(username=role, password=None).render_as_string(
                hide_password=False
            ),
            app_role=role,
        )
    finally:
        with server.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            connection.execute(text(f'DROP ROLE IF EXISTS "{role}"'))
        server.dispose()


@pytest.fixture
def app_db(role_database: RoleDatabase) -> Iterator[Database]:
    database = Database(role_database.app_url)
    yield database
    database.dispose()


def _append_event(database: Database) -> uuid.UUID:
    event_id = uuid.uuid4()
    with database.write() as session:
        session.add(
            AuditEvent(
                event_id=event_id,
                at=T0,
                action="test:append-only:try",
                actor_role="system",
                object_kind="test",
            )
        )
        session.add(AuditEventSubject(event_id=event_id, subject_id=uuid.uuid4(), at=T0))
    return event_id


@pytest.mark.postgres
def test_a_database_owner_with_createrole_migrates_as_well(postgres_url: str) -> None:
    """What a deployment without a superuser does: the database's owner, with CREATEROLE,
    migrates, joins the log's owner role, and can still alter the audit tables later."""
    run = uuid.uuid4().hex[:12]
    name, owner, app = f"colloque_owned_{run}", f"colloque_mig_{run}", f"colloque_app_{run}"
    server = create_engine(
        make_url(postgres_url).set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT"
    )
    with server.connect() as connection:
        connection.execute(text(f'CREATE ROLE "{owner}" LOGIN CREATEROLE'))
        connection.execute(text(f'CREATE ROLE "{app}" LOGIN'))
        connection.execute(text(f'CREATE DATABASE "{name}" OWNER "{owner}"'))
    url = make_url(postgres_url).set(database=name, username=owner)
    try:
        upgrade(url.render_as_string(hide_password=False), app_role=app)
        migrator = create_engine(url.set(drivername="postgresql+psycopg"))
        with migrator.begin() as connection:
            assert connection.scalar(text(f"SELECT pg_has_role('{AUDIT_OWNER}', 'MEMBER')"))
            connection.execute(text("ALTER TABLE audit_events ADD COLUMN later integer"))
        migrator.dispose()
        database = Database(url.set(username=app).render_as_string(hide_password=False))
        _append_event(database)
        with pytest.raises(ProgrammingError) as refused, database.write() as session:
            session.execute(text("DELETE FROM audit_events"))
        database.dispose()
        assert is_permission_denied(refused.value)
    finally:
        with server.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            connection.execute(text(f'DROP ROLE IF EXISTS "{app}"'))
            connection.execute(text(f'DROP ROLE IF EXISTS "{owner}"'))
        server.dispose()


def test_only_a_missing_privilege_is_a_permission_error() -> None:
    assert not is_permission_denied(ValueError("something else"))


@pytest.mark.postgres
@pytest.mark.parametrize("table", APPEND_ONLY)
@pytest.mark.parametrize("edit", EDITS, ids=lambda edit: edit.split()[0].lower())
def test_the_app_role_appends_and_reads_but_cannot_edit(
    app_db: Database, table: str, edit: str
) -> None:
    event_id = _append_event(app_db)
    with app_db.read() as session:
        assert session.get(AuditEvent, event_id) is not None
    with pytest.raises(ProgrammingError) as refused, app_db.write() as session:
        session.execute(text(edit.format(table=table, column=APPEND_ONLY[table])))
    assert is_permission_denied(refused.value)
    with app_db.read() as session:
        assert session.get(AuditEvent, event_id) is not None


@pytest.mark.postgres
def test_the_app_role_cannot_become_the_log_owner_nor_grant_itself(app_db: Database) -> None:
    with pytest.raises(ProgrammingError) as refused, app_db.write() as session:
        session.execute(text(f"SET ROLE {AUDIT_OWNER}"))
    assert is_permission_denied(refused.value)
    # A GRANT without the right to grant only warns, and changes nothing.
    with app_db.write() as session:
        session.execute(text("GRANT UPDATE, DELETE ON audit_events TO CURRENT_USER"))
    with pytest.raises(ProgrammingError), app_db.write() as session:
        session.execute(text("DELETE FROM audit_events"))


@pytest.mark.postgres
def test_the_app_role_does_the_ordinary_work(app_db: Database, sealing: Sealing) -> None:
    clock = SettableClock(T0)
    world = build_world(app_db, clock)
    appointment = book(app_db, clock, world, T0 + timedelta(days=1, hours=2))
    with app_db.read() as session:
        events = session.scalars(
            text("SELECT event_id FROM audit_events WHERE object_id = :id"),
            {"id": appointment.appointment_id},
        ).all()
    assert events
    # The sequencer empties its queue into the Merkle logs and signs, all as the app's role.
    report = sealing.run(app_db, clock, force=True)
    assert report.integrated > 0
    assert report.checkpoint is not None
    assert verify(app_db, sealing, clock).leaves == report.integrated
    # Addresses past their retention are the app's to delete.
    with app_db.write() as session:
        session.add(
            AuditClientAddress(event_id=events[0], at=T0, address="192.0.2.1", salt=bytes(16))
        )
    with app_db.write() as session:
        session.execute(delete(AuditClientAddress))
        assert session.scalar(select(func.count()).select_from(AuditPending)) == 0
        assert session.scalar(select(func.count()).select_from(AuditClientAddress)) == 0
    with app_db.read() as session:
        report_of_role = privileges_of_current_role(session.connection())
    assert report_of_role.missing == ()
    assert report_of_role.can_edit_audit_log == ()


@pytest.mark.postgres
def test_tables_added_later_are_secured_by_the_next_migrate(
    role_database: RoleDatabase, app_db: Database
) -> None:
    suffix = uuid.uuid4().hex[:8]
    audit_table, ordinary_table = f"audit_later_{suffix}", f"later_{suffix}"
    admin = create_engine(make_url(role_database.admin_url).set(drivername="postgresql+psycopg"))
    with admin.begin() as connection:
        for table in (audit_table, ordinary_table):
            connection.execute(text(f"CREATE TABLE {table} (n integer)"))
    admin.dispose()
    upgrade(role_database.admin_url, app_role=role_database.app_role)
    with app_db.write() as session:
        for table in (audit_table, ordinary_table):
            session.execute(text(f"INSERT INTO {table} VALUES (1)"))
        session.execute(text(f"UPDATE {ordinary_table} SET n = 2"))
    with pytest.raises(ProgrammingError), app_db.write() as session:
        session.execute(text(f"UPDATE {audit_table} SET n = 2"))


@pytest.fixture
def superuser_role(role_database: RoleDatabase) -> Iterator[str]:
    role = f"colloque_super_{uuid.uuid4().hex[:8]}"
    admin = create_engine(
        make_url(role_database.admin_url).set(drivername="postgresql+psycopg"),
        isolation_level="AUTOCOMMIT",
    )
    with admin.connect() as connection:
        connection.execute(text(f'CREATE ROLE "{role}" SUPERUSER NOLOGIN'))
    yield role
    with admin.connect() as connection:
        connection.execute(text(f'DROP ROLE "{role}"'))
    admin.dispose()


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("app_role", "why"),
    [
        ("superuser", "could edit the audit log"),
        (AUDIT_OWNER, "could edit the audit log"),
        ("colloque_nobody_here", "does not have"),
    ],
    ids=["superuser", "owner", "missing"],
)
def test_migrate_refuses_an_app_role_that_cannot_be_one(
    role_database: RoleDatabase, request: pytest.FixtureRequest, app_role: str, why: str
) -> None:
    if app_role == "superuser":
        app_role = request.getfixturevalue("superuser_role")
    with pytest.raises(DatabaseRoleError, match=why):
        upgrade(role_database.admin_url, app_role=app_role)


@pytest.fixture
def stranger_url(role_database: RoleDatabase) -> Iterator[str]:
    """A LOGIN role the migrations granted nothing, on the migrated database."""
    stranger = f"colloque_stranger_{uuid.uuid4().hex[:8]}"
    admin = create_engine(
        make_url(role_database.admin_url).set(drivername="postgresql+psycopg"),
        isolation_level="AUTOCOMMIT",
    )
    with admin.connect() as connection:
        connection.execute(text(f'CREATE ROLE "{stranger}" LOGIN'))
    yield (
        make_url(role_database.admin_url)
        .set(username=stranger)
        .render_as_string(hide_password=False)
    )
    with admin.connect() as connection:
        connection.execute(text(f'DROP ROLE "{stranger}"'))
    admin.dispose()


@pytest.mark.postgres
def test_a_role_without_grants_is_told_what_it_lacks(stranger_url: str) -> None:
    database = Database(stranger_url)
    with database.read() as session:
        report = privileges_of_current_role(session.connection())
    database.dispose()
    assert "SELECT on appointments" in report.missing
    assert "INSERT on audit_events" in report.missing
    assert report.can_edit_audit_log == ()


def _colloque(*args: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """The command's result, its standard error on one line (the console wraps it)."""
    result = subprocess.run(
        [sys.executable, "-m", "colloque.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLLOQUE_DATA_DIR": str(tmp_path)},
        check=False,
    )
    result.stderr = " ".join(result.stderr.split())
    return result


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("command", "message"),
    [
        (["migrate"], "lacks a privilege the migration needs"),
        (["worker", "--once"], "lacks privileges the application needs (SELECT on "),
        (["serve", "--port", "1"], "lacks a privilege the migration needs"),
    ],
    ids=["migrate", "worker", "serve"],
)
def test_the_commands_say_what_a_role_without_grants_lacks(
    stranger_url: str, tmp_path: Path, command: list[str], message: str
) -> None:
    result = _colloque(*command, "--database-url", stranger_url, tmp_path=tmp_path)
    assert result.returncode != 0
    assert message in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


@pytest.mark.postgres
def test_serve_refuses_in_production_a_role_that_can_edit_the_log(
    role_database: RoleDatabase,
) -> None:
    admin = Database(role_database.admin_url)
    try:
        check_database_role(Settings(), admin)
        with pytest.raises(typer.Exit):
            check_database_role(Settings(environment=Environment.PRODUCTION), admin)
    finally:
        admin.dispose()
    app = Database(role_database.app_url)
    try:
        check_database_role(Settings(environment=Environment.PRODUCTION), app)
    finally:
        app.dispose()


@pytest.mark.postgres
def test_the_migrating_role_could_edit_the_log(role_database: RoleDatabase) -> None:
    database = Database(role_database.admin_url)
    with database.read() as session:
        report = privileges_of_current_role(session.connection())
    database.dispose()
    assert "UPDATE on audit_events" in report.can_edit_audit_log


@pytest.mark.parametrize("table", SQLITE_TRIGGERED)
@pytest.mark.parametrize("edit", EDITS[:2], ids=["update", "delete"])
def test_sqlite_triggers_refuse_edits(sqlite_db: Database, table: str, edit: str) -> None:
    event_id = _append_event(sqlite_db)
    with (
        pytest.raises(DBAPIError, match=f"{table} is append-only"),
        sqlite_db.write() as session,
    ):
        session.execute(text(edit.format(table=table, column="at")))
    with sqlite_db.read() as session:
        assert session.get(AuditEvent, event_id) is not None
