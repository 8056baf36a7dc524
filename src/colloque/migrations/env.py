"""Alembic environment: runs against the URL set by ``colloque.storage.migrate``."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool

from colloque.schema import load_metadata
from colloque.storage.engine import normalise_url

config = context.config
target_metadata = load_metadata()


def run_migrations_online() -> None:
    connectable = config.attributes.get("connection")
    if connectable is not None:
        context.configure(connection=connectable, target_metadata=target_metadata)
        with context.begin_transaction():
            context.run_migrations()
        return
    url = normalise_url(config.get_main_option("sqlalchemy.url") or "")
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=url.get_backend_name() == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported; run `colloque migrate`")
run_migrations_online()
