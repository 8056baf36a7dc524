"""authorization: operator grants, probing detection

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import colloque.storage.types

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None


def _at_most_72_hours(dialect: str) -> sa.CheckConstraint:
    """At most 72 hours between grant and expiry, in each dialect's own date arithmetic."""
    if dialect == "postgresql":
        expression = "expires_at <= granted_at + interval '72 hours'"
    else:
        # SQLite stores instants as fixed-width UTC text; julianday() reads it exactly (ms).
        expression = "julianday(expires_at) <= julianday(granted_at, '+72 hours')"
    return sa.CheckConstraint(expression, name=op.f("ck_operator_grants_at_most_72h"))


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.create_table(
        "operator_grants",
        sa.Column("practice_id", sa.Uuid(), nullable=False),
        sa.Column("grant_id", sa.Uuid(), nullable=False),
        sa.Column("operator_account_id", sa.Uuid(), nullable=False),
        sa.Column("granted_by_account_id", sa.Uuid(), nullable=False),
        sa.Column("granted_at", colloque.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", colloque.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", colloque.storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_by_account_id", sa.Uuid(), nullable=True),
        sa.CheckConstraint(
            "expires_at > granted_at", name=op.f("ck_operator_grants_ends_after_start")
        ),
        _at_most_72_hours(dialect),
        sa.CheckConstraint(
            "revoked_at IS NULL OR revoked_at >= granted_at",
            name=op.f("ck_operator_grants_revoked_after"),
        ),
        sa.ForeignKeyConstraint(
            ["operator_account_id"],
            ["accounts.account_id"],
            name=op.f("fk_operator_grants_operator_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["practice_id"],
            ["practices.practice_id"],
            name=op.f("fk_operator_grants_practice_id_practices"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("practice_id", "grant_id", name=op.f("pk_operator_grants")),
        info={"shard": "practice"},
    )
    with op.batch_alter_table("operator_grants", schema=None) as batch_op:
        batch_op.create_index(
            "ix_operator_grants_operator", ["operator_account_id", "expires_at"], unique=False
        )

    op.create_table(
        "access_misses",
        sa.Column("miss_id", sa.Uuid(), nullable=False),
        sa.Column("principal_key", sa.String(length=80), nullable=False),
        sa.Column("at", colloque.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("miss_id", name=op.f("pk_access_misses")),
        info={"shard": "global"},
    )
    with op.batch_alter_table("access_misses", schema=None) as batch_op:
        batch_op.create_index("ix_access_misses_key_at", ["principal_key", "at"], unique=False)
        batch_op.create_index("ix_access_misses_at", ["at"], unique=False)

    op.create_table(
        "probing_incidents",
        sa.Column("incident_id", sa.Uuid(), nullable=False),
        sa.Column("principal_key", sa.String(length=80), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=True),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("at", colloque.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("misses", sa.Integer(), nullable=False),
        sa.Column("window_seconds", sa.Integer(), nullable=False),
        sa.Column("locked_until", colloque.storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint("kind IN ('slowed', 'locked')", name=op.f("ck_probing_incidents_kind")),
        sa.CheckConstraint(
            "(kind = 'locked') = (locked_until IS NOT NULL)",
            name=op.f("ck_probing_incidents_locked_has_end"),
        ),
        sa.CheckConstraint(
            "misses > 0 AND window_seconds > 0", name=op.f("ck_probing_incidents_counts")
        ),
        sa.PrimaryKeyConstraint("incident_id", name=op.f("pk_probing_incidents")),
        info={"shard": "global"},
    )
    with op.batch_alter_table("probing_incidents", schema=None) as batch_op:
        batch_op.create_index(
            "ix_probing_incidents_key_until", ["principal_key", "locked_until"], unique=False
        )
        batch_op.create_index("ix_probing_incidents_key_at", ["principal_key", "at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("probing_incidents", schema=None) as batch_op:
        batch_op.drop_index("ix_probing_incidents_key_at")
        batch_op.drop_index("ix_probing_incidents_key_until")
    op.drop_table("probing_incidents")
    with op.batch_alter_table("access_misses", schema=None) as batch_op:
        batch_op.drop_index("ix_access_misses_at")
        batch_op.drop_index("ix_access_misses_key_at")
    op.drop_table("access_misses")
    with op.batch_alter_table("operator_grants", schema=None) as batch_op:
        batch_op.drop_index("ix_operator_grants_operator")
    op.drop_table("operator_grants")
