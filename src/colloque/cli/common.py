"""What the commands share: reading the settings and opening the database, with errors that
end in a one-line message and a non-zero exit, never a traceback."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

from colloque.config import ConfigurationError, Settings, load_settings
from colloque.storage.engine import Database, normalise_url

errors = Console(stderr=True)

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
