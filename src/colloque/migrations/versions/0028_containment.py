"""containment: each credential's counters per window, its suspension, the decoys

``containment_windows`` holds, per credential, practice and window, the sketches of the distinct
persons and appointments read, the points and the limit; ``containment_suspensions`` the
credentials suspended and the incident opened for each; ``containment_canaries`` the decoy
patients and appointments of each practice (docs/containment.md).

Revision ID: 0028
Revises: 0027
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from colloque.storage.types import UTCDateTime

revision: str = "0028"
down_revision: str | None = "0027"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
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
    op.create_table(
        "containment_suspensions",
        sa.Column("credential_id", sa.Uuid(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=True),
        sa.Column("practice_id", sa.Uuid(), nullable=True),
        sa.Column("at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.Column("incident_id", sa.Uuid(), nullable=False),
        sa.CheckConstraint(
            "reason IN ('threshold', 'canary')", name=op.f("ck_containment_suspensions_reason")
        ),
        sa.PrimaryKeyConstraint("credential_id", name=op.f("pk_containment_suspensions")),
    )
    op.create_table(
        "containment_canaries",
        sa.Column("practice_id", sa.Uuid(), nullable=False),
        sa.Column("object_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('patient', 'appointment')", name=op.f("ck_containment_canaries_kind")
        ),
        sa.PrimaryKeyConstraint("practice_id", "object_id", name=op.f("pk_containment_canaries")),
    )


def downgrade() -> None:
    op.drop_table("containment_canaries")
    op.drop_table("containment_suspensions")
    op.drop_index("ix_containment_windows_start", table_name="containment_windows")
    op.drop_table("containment_windows")
