"""Schema migrations with Alembic, callable from the CLI, the app and the tests."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from colloque.storage.engine import ensure_sqlite_directory, normalise_url

MIGRATIONS_DIR = Path(__file__).parent.parent / "migrations"


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # Percent signs in passwords would be read as interpolation by ConfigParser.
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str) -> None:
    ensure_sqlite_directory(normalise_url(url))
    command.upgrade(alembic_config(url), "head")
