"""probing counters: one atomic row per credential, address or network instead of a row per miss

``access_misses`` kept one row per "not found" answer, counted after the insert: concurrent misses
all passed the limit. ``probing_counters`` keeps one row per key (``credential:<id>``,
``client:<keyed hash>``, ``net:<keyed hash>``) with its window, its count and its lock, updated by
one ``INSERT ... ON CONFLICT DO UPDATE ... RETURNING``. Old misses are dropped: they are only
minutes of evidence, and every lock they decided is kept in ``probing_incidents``.

Revision ID: 0029
Revises: 0028
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from colloque.storage.types import UTCDateTime

revision: str = "0029"
down_revision: str | None = "0028"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "probing_counters",
        sa.Column("key", sa.String(length=80), nullable=False),
        sa.Column("window_started_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("misses", sa.Integer(), nullable=False),
        sa.Column("locked_until", UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint("misses >= 0", name=op.f("ck_probing_counters_misses")),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_probing_counters")),
        info={"shard": "global"},
    )
    with op.batch_alter_table("probing_counters", schema=None) as batch_op:
        batch_op.create_index("ix_probing_counters_window", ["window_started_at"], unique=False)
    with op.batch_alter_table("access_misses", schema=None) as batch_op:
        batch_op.drop_index("ix_access_misses_at")
        batch_op.drop_index("ix_access_misses_key_at")
    op.drop_table("access_misses")


def downgrade() -> None:
    op.create_table(
        "access_misses",
        sa.Column("miss_id", sa.Uuid(), nullable=False),
        sa.Column("principal_key", sa.String(length=80), nullable=False),
        sa.Column("at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("miss_id", name=op.f("pk_access_misses")),
        info={"shard": "global"},
    )
    with op.batch_alter_table("access_misses", schema=None) as batch_op:
        batch_op.create_index("ix_access_misses_key_at", ["principal_key", "at"], unique=False)
        batch_op.create_index("ix_access_misses_at", ["at"], unique=False)
    with op.batch_alter_table("probing_counters", schema=None) as batch_op:
        batch_op.drop_index("ix_probing_counters_window")
    op.drop_table("probing_counters")
