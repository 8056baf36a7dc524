"""Schema migrations with Alembic, callable from the CLI, the app and the tests."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from colloque.storage.engine import ensure_sqlite_directory, normalise_url

MIGRATIONS_DIR = Path(__file__).parent.parent / "migrations"


def alembic_config(url: str, *, app_role: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # Percent signs in passwords would be read as interpolation by ConfigParser.
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    # Read by the migrations that grant the application's role its rights (colloque.storage.roles).
    config.attributes["app_role"] = app_role
    return config


def upgrade(url: str, *, app_role: str | None = None) -> None:
    """Bring the schema to the newest revision; on PostgreSQL, ``app_role`` (the role the
    application connects as) is granted what it needs and no more."""
    ensure_sqlite_directory(normalise_url(url))
    command.upgrade(alembic_config(url, app_role=app_role), "head")
