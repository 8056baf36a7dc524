"""reminders: the planner's dedupe key and watermark, reminder settings, the planner's indexes

``outbox_messages.dedupe_key`` names what a reminder reminds of, unique per practice, so that the
planner queues each reminder once. ``reminder_planning`` holds up to when it has planned.
``visit_types.reminders`` is the practice's setting per visit type (the booking client copies it
onto ``appointments.reminders_wanted``); ``accounts.reminders`` and ``patients.reminders`` are
turned off by a reminder's one-click unsubscribe. Two indexes on ``appointments`` serve the
planner's scans: by (status, starts_at) for one local day, by (status, updated_at) for the
appointments booked or moved since its last round.

Revision ID: 0021
Revises: 0020
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from colloque.storage.types import UTCDateTime

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("dedupe_key", sa.String(length=120), nullable=True))
        batch_op.create_index("ux_outbox_dedupe", ["dedupe_key", "practice_id"], unique=True)
    op.create_table(
        "reminder_planning",
        sa.Column("name", sa.String(length=16), nullable=False),
        sa.Column("planned_until", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_reminder_planning")),
    )
    for table in ("visit_types", "accounts", "patients"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(
                sa.Column("reminders", sa.Boolean(), server_default=sa.true(), nullable=False)
            )
    with op.batch_alter_table("appointments", schema=None) as batch_op:
        batch_op.create_index("ix_appointments_status_start", ["status", "starts_at"])
        batch_op.create_index("ix_appointments_status_updated", ["status", "updated_at"])


def downgrade() -> None:
    with op.batch_alter_table("appointments", schema=None) as batch_op:
        batch_op.drop_index("ix_appointments_status_updated")
        batch_op.drop_index("ix_appointments_status_start")
    for table in ("patients", "accounts", "visit_types"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("reminders")
    op.drop_table("reminder_planning")
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.drop_index("ux_outbox_dedupe")
        batch_op.drop_column("dedupe_key")
