"""appointments and waitlist entries stop naming the visit type

The visit type now travels sealed with the visit reason; the server keeps the duration (and for
the waitlist, the duration wanted). Existing visit types of appointments are dropped, not copied
anywhere: they are exactly the clear health data this change removes.

Revision ID: 0009
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0007"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("appointments", schema=None) as batch_op:
        batch_op.drop_constraint("fk_appointments_practice_id_visit_types", type_="foreignkey")
        batch_op.drop_column("visit_type_id")
        batch_op.add_column(
            sa.Column("reminders_wanted", sa.Boolean(), server_default=sa.true(), nullable=False)
        )
    with op.batch_alter_table("waitlist_entries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("duration_minutes", sa.Integer(), nullable=True))
    op.execute(
        "UPDATE waitlist_entries SET duration_minutes = (SELECT v.duration_minutes FROM visit_types v"
        " WHERE v.practice_id = waitlist_entries.practice_id"
        " AND v.visit_type_id = waitlist_entries.visit_type_id)"
    )
    with op.batch_alter_table("waitlist_entries", schema=None) as batch_op:
        batch_op.drop_constraint("fk_waitlist_entries_practice_id_visit_types", type_="foreignkey")
        batch_op.drop_column("visit_type_id")
        batch_op.alter_column("duration_minutes", existing_type=sa.Integer(), nullable=False)
        batch_op.create_check_constraint("duration_positive", "duration_minutes > 0")


def downgrade() -> None:
    # The visit types themselves are gone; a downgrade puts back one of the agenda's visit types
    # of the same length, which is all the server ever knew.
    with op.batch_alter_table("waitlist_entries", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_waitlist_entries_duration_positive"), type_="check")
        batch_op.add_column(sa.Column("visit_type_id", sa.Uuid(), nullable=True))
    op.execute(
        "UPDATE waitlist_entries SET visit_type_id = (SELECT v.visit_type_id FROM visit_types v"
        " WHERE v.practice_id = waitlist_entries.practice_id"
        " AND v.practitioner_id = waitlist_entries.practitioner_id"
        " AND v.duration_minutes = waitlist_entries.duration_minutes LIMIT 1)"
    )
    with op.batch_alter_table("waitlist_entries", schema=None) as batch_op:
        batch_op.drop_column("duration_minutes")
        batch_op.alter_column("visit_type_id", existing_type=sa.Uuid(), nullable=False)
        batch_op.create_foreign_key(
            "fk_waitlist_entries_practice_id_visit_types",
            "visit_types",
            ["practice_id", "visit_type_id"],
            ["practice_id", "visit_type_id"],
        )
    with op.batch_alter_table("appointments", schema=None) as batch_op:
        batch_op.drop_column("reminders_wanted")
        batch_op.add_column(sa.Column("visit_type_id", sa.Uuid(), nullable=True))
    op.execute(
        "UPDATE appointments SET visit_type_id = (SELECT v.visit_type_id FROM visit_types v"
        " WHERE v.practice_id = appointments.practice_id"
        " AND v.practitioner_id = appointments.practitioner_id"
        " ORDER BY v.visit_type_id LIMIT 1)"
    )
    with op.batch_alter_table("appointments", schema=None) as batch_op:
        batch_op.alter_column("visit_type_id", existing_type=sa.Uuid(), nullable=False)
        batch_op.create_foreign_key(
            "fk_appointments_practice_id_visit_types",
            "visit_types",
            ["practice_id", "visit_type_id"],
            ["practice_id", "visit_type_id"],
        )
