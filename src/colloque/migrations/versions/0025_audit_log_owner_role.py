"""the audit log belongs to its own role; the application's may only read and append to it

PostgreSQL only: ``colloque_audit_owner`` (NOLOGIN, created if the cluster has none yet) owns every
``audit_`` table except ``audit_pending`` and ``audit_client_addresses``, and the application's role
(``COLLOQUE_DATABASE_APP_ROLE``, when set) gets SELECT and INSERT on them and the usual rights
elsewhere (``colloque.storage.roles``). Every later upgrade applies the same to new tables. SQLite
has its triggers (0023).

The downgrade gives the tables back to the migrating role and keeps the roles, which other
databases of the cluster may use.

Revision ID: 0025
Revises: 0024
"""

from __future__ import annotations

from alembic import context, op

from colloque.storage import roles

revision: str = "0025"
down_revision: str | None = "0024"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        roles.secure_audit_log(op.get_bind(), app_role=context.config.attributes.get("app_role"))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        roles.give_back_audit_tables(op.get_bind())
