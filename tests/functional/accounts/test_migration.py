"""The accounts migration goes up, down and up again on both databases, matching the models."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from colloque.schema import load_metadata
from colloque.storage.engine import normalise_url
from colloque.storage.migrate import alembic_config
from tests.conftest import _postgres_admin_url


def _round_trip(url: str) -> None:
    config = alembic_config(url)
    command.upgrade(config, "head")
    command.downgrade(config, "0001")
    engine = create_engine(normalise_url(url))
    try:
        with engine.connect() as connection:
            tables = set(inspect(connection).get_table_names())
            assert "account_credentials" not in tables
            assert "kind" not in {
                c["name"] for c in inspect(connection).get_columns("access_tokens")
            }
        command.upgrade(config, "head")
        with engine.connect() as connection:
            assert compare_metadata(MigrationContext.configure(connection), load_metadata()) == []
    finally:
        engine.dispose()


def test_sqlite(tmp_path: Path) -> None:
    _round_trip(f"sqlite:///{tmp_path / 'migrations.sqlite3'}")


@pytest.fixture
def empty_postgres(postgres_url: str) -> Iterator[str]:
    admin = create_engine(normalise_url(_postgres_admin_url()), isolation_level="AUTOCOMMIT")
    name = f"colloque_migration_{uuid.uuid4().hex[:12]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    yield make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.mark.postgres
def test_postgres(empty_postgres: str) -> None:
    _round_trip(empty_postgres)


def _throttle_keys_after_upgrade(url: str) -> set[str]:
    """Throttle rows written by 0010's code (client addresses in clear), then the upgrade."""
    config = alembic_config(url)
    command.upgrade(config, "0010")
    engine = create_engine(normalise_url(url))
    try:
        with engine.begin() as connection:
            for key in ("login:ip:203.0.113.9", "codes:ip:2001:db8::1", "login:email:0123abcd"):
                connection.execute(
                    text(
                        "INSERT INTO throttles (key, count, window_started_at, lock_count) "
                        "VALUES (:key, 1, CURRENT_TIMESTAMP, 0)"
                    ),
                    {"key": key},
                )
        command.upgrade(config, "head")
        with engine.connect() as connection:
            return set(connection.execute(text("SELECT key FROM throttles")).scalars())
    finally:
        engine.dispose()


def test_sqlite_throttles_keyed_by_a_clear_address_are_dropped(tmp_path: Path) -> None:
    keys = _throttle_keys_after_upgrade(f"sqlite:///{tmp_path / 'throttles.sqlite3'}")
    assert keys == {"login:email:0123abcd"}


@pytest.mark.postgres
def test_postgres_throttles_keyed_by_a_clear_address_are_dropped(empty_postgres: str) -> None:
    assert _throttle_keys_after_upgrade(empty_postgres) == {"login:email:0123abcd"}
