"""Alembic environment: runs against the URL set by ``colloque.storage.migrate``."""

from __future__ import annotations

from typing import Any

from alembic import context
from sqlalchemy import Connection, create_engine, pool, text

from colloque.schema import load_metadata
from colloque.storage import roles
from colloque.storage.engine import normalise_url

config = context.config
target_metadata = load_metadata()


def _run(connection: Connection, **options: Any) -> None:
    applied: list[str] = []
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        on_version_apply=lambda **step: applied.append(step["step"].up_revision_id),
        **options,
    )
    with context.begin_transaction():
        context.run_migrations()
        _secure_audit_log_again(connection, changed=bool(applied))


def _secure_audit_log_again(connection: Connection, *, changed: bool) -> None:
    """Audit tables a migration added since 0025 go to the log's owner too, in the same
    transaction; and a newly configured application role gets its rights. The application's role
    itself, finding nothing to migrate, has nothing to grant."""
    if connection.dialect.name != "postgresql" or not roles.is_secured(connection):
        return
    app_role: str | None = config.attributes.get("app_role")
    granting = app_role is not None and app_role != connection.scalar(text("SELECT current_user"))
    if changed or granting:
        roles.secure_audit_log(connection, app_role=app_role)


def run_migrations_online() -> None:
    connectable = config.attributes.get("connection")
    if connectable is not None:
        _run(connectable)
        return
    url = normalise_url(config.get_main_option("sqlalchemy.url") or "")
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        _run(connection, render_as_batch=url.get_backend_name() == "sqlite")
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported; run `colloque migrate`")
run_migrations_online()
