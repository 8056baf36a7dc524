"""practice patients get contact fields; appointments forced outside the opening hours say so

``practice_patients.phone`` (E.164) and ``email`` are the administrative contact a practice keeps
for a patient, optional; an index on ``(practice_id, phone)`` serves the desk's look-up by phone.
``appointments.outside_hours`` and ``appointment_events.outside_hours`` record that a practice
member forced a time outside the opening hours, with an explicit confirmation (docs/scheduling.md).
Existing rows were all booked within the hours: false.

Revision ID: 0016
Revises: 0015
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("practice_patients", schema=None) as batch_op:
        batch_op.add_column(sa.Column("phone", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("email", sa.String(length=320), nullable=True))
        batch_op.create_index("ix_practice_patients_phone", ["practice_id", "phone"], unique=False)
    for table in ("appointments", "appointment_events"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(
                sa.Column("outside_hours", sa.Boolean(), server_default=sa.false(), nullable=False)
            )


def downgrade() -> None:
    for table in ("appointment_events", "appointments"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("outside_hours")
    with op.batch_alter_table("practice_patients", schema=None) as batch_op:
        batch_op.drop_index("ix_practice_patients_phone")
        batch_op.drop_column("email")
        batch_op.drop_column("phone")
