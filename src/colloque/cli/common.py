"""What the commands share: reading the settings and opening the database, with errors that
end in a one-line message and a non-zero exit, never a traceback."""

from __future__ import annotations

from typing import Annotated, TypedDict

import typer
from rich.console import Console

from colloque.config import ConfigurationError, Environment, Settings, load_settings
from colloque.storage.engine import Database, normalise_url
from colloque.storage.roles import privileges_of_current_role

errors = Console(stderr=True)


class ServerOptions(TypedDict):
    server_header: bool
    access_log: bool


#: What every server we start passes to uvicorn. No ``server`` header: it names the software and
#: its version to whoever probes (uvicorn adds it below the app, which cannot take it back; run
#: ``uvicorn`` by hand with ``--no-server-header``). Raw paths and query strings can hold
#: personal data: no access log (the app logs route templates).
SERVER_OPTIONS: ServerOptions = {"server_header": False, "access_log": False}

DatabaseOption = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        help="Overrides COLLOQUE_DATABASE_URL (sqlite:///PATH or postgresql://...).",
    ),
]


def fail(message: str) -> typer.Exit:
    errors.print(f"[bold red]error:[/] {message}", highlight=False)
    return typer.Exit(code=2)


def settings_of(database_url: str | None) -> Settings:
    try:
        settings = load_settings()
    except ConfigurationError as exc:
        raise fail(str(exc)) from None
    except Exception as exc:  # pydantic reports which variable is wrong
        raise fail(f"invalid configuration: {exc}") from None
    if database_url:
        settings = settings.model_copy(update={"database_url": database_url})
    try:
        normalise_url(settings.effective_database_url)
    except Exception as exc:
        raise fail(f"invalid database URL: {exc}") from None
    return settings


def database_of(settings: Settings) -> Database:
    from colloque.delivery.setup import configure_breaker

    try:
        database = Database(settings.effective_database_url)
    except Exception as exc:
        raise fail(f"cannot use the database URL: {exc}") from None
    configure_breaker(settings, database)
    return database


def check_database_role(settings: Settings, database: Database) -> None:
    """On PostgreSQL, before serving: fail when the connected role lacks a right the application
    needs (its grants were never made), or, in production, when it could edit the audit log (the
    database's owner or a superuser, not the application's own role)."""
    if not database.is_postgres:
        return
    try:
        with database.read() as session:
            report = privileges_of_current_role(session.connection())
    except Exception as exc:
        raise fail(f"cannot read the database role's privileges ({type(exc).__name__})") from None
    if report.missing:
        shown = ", ".join(report.missing[:4]) + (" ..." if len(report.missing) > 4 else "")
        raise fail(
            f"this database role lacks privileges the application needs ({shown}): run "
            "`colloque migrate` as the database's owner with COLLOQUE_DATABASE_APP_ROLE naming "
            'this role (docs/operations.md, "Audit log")'
        )
    if settings.environment is Environment.PRODUCTION and report.can_edit_audit_log:
        raise fail(
            f"this database role can edit the audit log ({report.can_edit_audit_log[0]}), "
            "refused in production: connect as the role COLLOQUE_DATABASE_APP_ROLE names "
            '(docs/operations.md, "Audit log")'
        )
