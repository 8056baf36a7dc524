"""practitioner busy ledger: one practitioner's active time across every practice

``practitioner_busy`` holds ``[starts_at, blocked_until)`` of every active (held or booked)
appointment keyed by practitioner. On PostgreSQL ``ex_practitioner_busy_no_overlap`` refuses two
overlapping rows of one practitioner, whatever their practices: the appointments table's own
constraint is per practice (booking/ledger.py, docs/scaling.md).

The backfill takes the active appointments oldest first. A double booking across practices made
before this revision (the hole it closes) keeps the ledger row of its first booking only; the
other stays booked, outside the ledger, until the practice moves or cancels it
(docs/scheduling.md says how to list them).

Revision ID: 0030
Revises: 0029
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from colloque.storage.types import UTCDateTime

revision: str = "0030"
down_revision: str | None = "0029"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "practitioner_busy",
        sa.Column("practitioner_id", sa.Uuid(), nullable=False),
        sa.Column("appointment_id", sa.Uuid(), nullable=False),
        sa.Column("practice_id", sa.Uuid(), nullable=False),
        sa.Column("starts_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("blocked_until", UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("starts_at < blocked_until", name=op.f("ck_practitioner_busy_period")),
        sa.ForeignKeyConstraint(
            ["practitioner_id"],
            ["practitioners.practitioner_id"],
            name=op.f("fk_practitioner_busy_practitioner_id_practitioners"),
        ),
        sa.PrimaryKeyConstraint(
            "practitioner_id", "appointment_id", name=op.f("pk_practitioner_busy")
        ),
        info={"shard": "practitioner"},
    )
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        op.execute(
            "ALTER TABLE practitioner_busy ADD CONSTRAINT ex_practitioner_busy_no_overlap "
            "EXCLUDE USING gist (practitioner_id WITH =, "
            "tstzrange(starts_at, blocked_until, '[)') WITH &&)"
        )
    op.execute(
        "INSERT INTO practitioner_busy "
        "(practitioner_id, appointment_id, practice_id, starts_at, blocked_until) "
        "SELECT practitioner_id, appointment_id, practice_id, starts_at, blocked_until "
        "FROM appointments WHERE status IN ('held', 'booked') "
        "ORDER BY created_at, appointment_id" + (" ON CONFLICT DO NOTHING" if postgres else "")
        # A clash with an earlier row is left out (the exclusion constraint is a conflict too).
    )


def downgrade() -> None:
    op.drop_table("practitioner_busy")
