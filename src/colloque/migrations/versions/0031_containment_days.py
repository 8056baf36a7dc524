"""containment days: one row per credential and practice, counting its window and its day

``containment_windows`` kept a row per credential, practice and hour. It now keeps one row per
credential and practice with two sets of counters: the current window's (an hour, aligned on the
clock) and the credential's day's (from its first counted event in the practice), so that a thief
reading just under the hourly limit all day is stopped too (docs/containment.md). The counters
are minutes of evidence, dropped by the upkeep after two days anyway: the table is made anew
rather than converted (what was read is in the audit log).

Revision ID: 0031
Revises: 0029
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from colloque.storage.types import UTCDateTime

revision: str = "0031"
down_revision: str | None = "0030"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.drop_index("ix_containment_windows_start", table_name="containment_windows")
    op.drop_table("containment_windows")
    op.create_table(
        "containment_windows",
        sa.Column("credential_id", sa.Uuid(), nullable=False),
        sa.Column("practice_id", sa.Uuid(), nullable=False),
        sa.Column("window_start", UTCDateTime(timezone=True), nullable=False),
        sa.Column("point_limit", sa.Float(), nullable=False),
        sa.Column("points", sa.Float(), nullable=False),
        sa.Column("persons", sa.LargeBinary(), nullable=False),
        sa.Column("appointments", sa.LargeBinary(), nullable=False),
        sa.Column("changes", sa.Integer(), nullable=False),
        sa.Column("day_start", UTCDateTime(timezone=True), nullable=False),
        sa.Column("day_limit", sa.Float(), nullable=False),
        sa.Column("day_points", sa.Float(), nullable=False),
        sa.Column("day_persons", sa.LargeBinary(), nullable=False),
        sa.Column("day_appointments", sa.LargeBinary(), nullable=False),
        sa.Column("day_changes", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "credential_id", "practice_id", name=op.f("pk_containment_windows")
        ),
        info={"shard": "global"},
    )
    op.create_index("ix_containment_windows_day_start", "containment_windows", ["day_start"])


def downgrade() -> None:
    op.drop_index("ix_containment_windows_day_start", table_name="containment_windows")
    op.drop_table("containment_windows")
    op.create_table(
        "containment_windows",
        sa.Column("credential_id", sa.Uuid(), nullable=False),
        sa.Column("practice_id", sa.Uuid(), nullable=False),
        sa.Column("window_start", UTCDateTime(timezone=True), nullable=False),
        sa.Column("point_limit", sa.Float(), nullable=False),
        sa.Column("points", sa.Float(), nullable=False),
        sa.Column("persons", sa.LargeBinary(), nullable=False),
        sa.Column("appointments", sa.LargeBinary(), nullable=False),
        sa.Column("changes", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "credential_id", "practice_id", "window_start", name=op.f("pk_containment_windows")
        ),
    )
    op.create_index("ix_containment_windows_start", "containment_windows", ["window_start"])
