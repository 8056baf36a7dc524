"""PostgreSQL roles: the audit log belongs to a role the application can never act as.

A NOLOGIN role, :data:`AUDIT_OWNER`, owns every append-only audit table (a name starting with
``audit_``, except the two the application deletes from). The application's role
(``COLLOQUE_DATABASE_APP_ROLE``) is granted SELECT and INSERT on them, and the usual rights on every
other table, now and, through default privileges, on the tables later migrations create. Owning a
table is what lets a role alter, disable the triggers of, or grant itself rights on it, so the
application's role can neither edit audit rows nor give itself the right to.

Migration 0025 sets this up and every ``colloque migrate`` that changes the schema sets it up again,
so audit tables added later are covered too (``colloque.migrations.env``). The migrating role must
be a superuser, or own the database and have CREATEROLE; roles are cluster-wide, so several
databases of one cluster share the owner role.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Connection, text

AUDIT_OWNER = "colloque_audit_owner"
#: Audit tables the application deletes from: the sequencer's queue, and full client addresses
#: once their retention is over.
_AUDIT_TABLES_THE_APP_EDITS = frozenset({"audit_pending", "audit_client_addresses"})
_MIGRATIONS_TABLE = "alembic_version"
_ORDINARY_RIGHTS = "SELECT, INSERT, UPDATE, DELETE"
_INSUFFICIENT_PRIVILEGE = "42501"


class DatabaseRoleError(Exception):
    """The database's roles or privileges cannot run Colloque as configured; the message says why."""


def is_append_only(table: str) -> bool:
    return table.startswith("audit_") and table not in _AUDIT_TABLES_THE_APP_EDITS


def is_permission_denied(error: BaseException) -> bool:
    """Whether PostgreSQL refused ``error``'s statement for want of a privilege."""
    cause: BaseException | None = error
    while cause is not None:
        if getattr(cause, "sqlstate", None) == _INSUFFICIENT_PRIVILEGE:
            return True
        cause = cause.__cause__ or getattr(cause, "orig", None)
    return False


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _tables(connection: Connection) -> list[str]:
    return list(
        connection.scalars(
            text(
                "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
                " ORDER BY tablename"
            )
        )
    )


def _create_owner_role(connection: Connection) -> None:
    # Another database of the cluster may be creating it at this very moment: the loser of that
    # race sees a duplicate, which is what it wanted anyway. (AUDIT_OWNER, spelt out.)
    connection.execute(
        text(
            "DO $$ BEGIN"
            " IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'colloque_audit_owner') THEN"
            " CREATE ROLE colloque_audit_owner NOLOGIN;"
            " END IF;"
            " EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;"
            " END $$"
        )
    )


def _check_app_role(connection: Connection, app_role: str) -> None:
    row = connection.execute(
        text(
            "SELECT rolsuper, rolname = current_user AS is_me,"
            " pg_has_role(rolname, :owner, 'MEMBER') AS owns_log"
            " FROM pg_roles WHERE rolname = :role"
        ),
        {"role": app_role, "owner": AUDIT_OWNER},
    ).one_or_none()
    if row is None:
        raise DatabaseRoleError(
            f"COLLOQUE_DATABASE_APP_ROLE names {app_role}, a role this database server does not "
            "have: create it (CREATE ROLE ... LOGIN PASSWORD ...) first"
        )
    if row.rolsuper or row.is_me or row.owns_log:
        raise DatabaseRoleError(
            f"COLLOQUE_DATABASE_APP_ROLE names {app_role}, which could edit the audit log (a "
            "superuser, the migrating role itself, or a member of the log's owner): use a role "
            "of its own"
        )


def secure_audit_log(connection: Connection, *, app_role: str | None) -> None:
    """Give the append-only audit tables to :data:`AUDIT_OWNER` and grant ``app_role`` what the
    application needs. Idempotent; within the caller's transaction."""
    _create_owner_role(connection)
    if not connection.scalar(
        text(
            "SELECT rolsuper OR pg_has_role(current_user, :owner, 'MEMBER') FROM pg_roles"
            " WHERE rolname = current_user"
        ),
        {"owner": AUDIT_OWNER},
    ):
        # Changing a table's owner, and altering it later, takes membership of the new owner.
        connection.execute(text(f"GRANT {AUDIT_OWNER} TO CURRENT_USER"))
    schema = _quoted(str(connection.scalar(text("SELECT current_schema()"))))
    connection.execute(text(f"GRANT USAGE, CREATE ON SCHEMA {schema} TO {AUDIT_OWNER}"))
    tables = _tables(connection)
    append_only = [_quoted(table) for table in tables if is_append_only(table)]
    if app_role is not None:
        _check_app_role(connection, app_role)
        _grant_to_app(connection, app_role, schema=schema, tables=tables)
    for table in append_only:
        connection.execute(text(f"REVOKE ALL ON TABLE {table} FROM PUBLIC"))
        connection.execute(text(f"ALTER TABLE {table} OWNER TO {AUDIT_OWNER}"))


def _grant_to_app(
    connection: Connection, app_role: str, *, schema: str, tables: Iterable[str]
) -> None:
    role = _quoted(app_role)
    ordinary = [_quoted(t) for t in tables if not is_append_only(t) and t != _MIGRATIONS_TABLE]
    append_only = [_quoted(t) for t in tables if is_append_only(t)]
    statements = [f"GRANT USAGE ON SCHEMA {schema} TO {role}"]
    if ordinary:
        statements.append(f"GRANT {_ORDINARY_RIGHTS} ON TABLE {', '.join(ordinary)} TO {role}")
    if append_only:
        listed = ", ".join(append_only)
        statements += [
            f"REVOKE ALL ON TABLE {listed} FROM {role}",
            f"GRANT SELECT, INSERT ON TABLE {listed} TO {role}",
        ]
    if _MIGRATIONS_TABLE in tables:
        # `colloque serve` reads the schema's revision to see whether it is up to date.
        statements.append(f"GRANT SELECT ON TABLE {_MIGRATIONS_TABLE} TO {role}")
    statements += [
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema} TO {role}",
        # Tables later migrations create: an audit table among them is narrowed again to SELECT
        # and INSERT by the next secure_audit_log(), in the same transaction.
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} GRANT {_ORDINARY_RIGHTS} ON TABLES TO {role}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} GRANT USAGE, SELECT ON SEQUENCES TO {role}",
    ]
    for statement in statements:
        connection.execute(text(statement))


def is_secured(connection: Connection) -> bool:
    """Whether :func:`secure_audit_log` has run here (migration 0025 and not its downgrade)."""
    return bool(
        connection.scalar(
            text(
                "SELECT EXISTS (SELECT 1 FROM pg_tables WHERE schemaname = current_schema()"
                " AND tablename = 'audit_events' AND tableowner = :owner)"
            ),
            {"owner": AUDIT_OWNER},
        )
    )


def give_back_audit_tables(connection: Connection) -> None:
    """Undo the ownership :func:`secure_audit_log` gave (the roles stay: others may use them)."""
    for table in _tables(connection):
        if is_append_only(table):
            connection.execute(text(f"ALTER TABLE {_quoted(table)} OWNER TO CURRENT_USER"))


@dataclass(frozen=True)
class PrivilegeReport:
    """What the connected role may not do that the application needs, and what it may do that it
    should not (edit the audit log)."""

    missing: tuple[str, ...]
    can_edit_audit_log: tuple[str, ...]


_PRIVILEGES = ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE")


def privileges_of_current_role(connection: Connection) -> PrivilegeReport:
    rows = connection.execute(
        text(
            "SELECT c.relname, has_table_privilege(c.oid, 'SELECT') AS select,"
            " has_table_privilege(c.oid, 'INSERT') AS insert,"
            " has_table_privilege(c.oid, 'UPDATE') AS update,"
            " has_table_privilege(c.oid, 'DELETE') AS delete,"
            " has_table_privilege(c.oid, 'TRUNCATE') AS truncate"
            " FROM pg_class c WHERE c.relkind IN ('r', 'p')"
            " AND c.relnamespace = current_schema()::regnamespace ORDER BY c.relname"
        )
    ).all()
    missing: list[str] = []
    can_edit: list[str] = []
    for row in rows:
        held = {p for p in _PRIVILEGES if getattr(row, p.lower())}
        if row.relname == _MIGRATIONS_TABLE:
            needed = {"SELECT"}
        elif is_append_only(row.relname):
            needed = {"SELECT", "INSERT"}
            can_edit += [f"{p} on {row.relname}" for p in _PRIVILEGES[2:] if p in held]
        else:
            needed = {"SELECT", "INSERT", "UPDATE", "DELETE"}
        missing += [f"{p} on {row.relname}" for p in _PRIVILEGES if p in needed - held]
    return PrivilegeReport(missing=tuple(missing), can_edit_audit_log=tuple(can_edit))
