"""incidents: a breach's own record and timeline; look-ups by id for the incident report

``incidents`` (detection time, summary) and ``incident_steps`` (each step of the response with
its time: opened, contained, authority or patients notified, report written). Ids and counts only.

The incident report resolves the appointments and sealed items that audit events name by their id
alone (a patient's own list spans practices, so the practice is not always known): one index on
``appointments.appointment_id`` and one on ``sealed_items.item_id``.

Revision ID: 0026
Revises: 0025
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from colloque.storage.types import UTCDateTime

revision: str = "0026"
down_revision: str | None = "0025"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "incidents",
        sa.Column("incident_id", sa.Uuid(), nullable=False),
        sa.Column("detected_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("opened_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("summary", sa.String(length=500), nullable=False),
        sa.PrimaryKeyConstraint("incident_id", name=op.f("pk_incidents")),
    )
    op.create_table(
        "incident_steps",
        sa.Column("step_id", sa.Uuid(), nullable=False),
        sa.Column("incident_id", sa.Uuid(), nullable=False),
        sa.Column("at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("detail", sa.String(length=500), nullable=False),
        sa.CheckConstraint(
            "kind IN ('opened', 'contained', 'authority_notified', 'patients_notified',"
            " 'reported')",
            name=op.f("ck_incident_steps_kind"),
        ),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.incident_id"],
            name=op.f("fk_incident_steps_incident_id_incidents"),
        ),
        sa.PrimaryKeyConstraint("step_id", name=op.f("pk_incident_steps")),
    )
    op.create_index("ix_incident_steps_incident_at", "incident_steps", ["incident_id", "at"])
    op.create_index("ix_appointments_appointment_id", "appointments", ["appointment_id"])
    op.create_index("ix_sealed_items_item_id", "sealed_items", ["item_id"])


def downgrade() -> None:
    op.drop_index("ix_sealed_items_item_id", table_name="sealed_items")
    op.drop_index("ix_appointments_appointment_id", table_name="appointments")
    op.drop_index("ix_incident_steps_incident_at", table_name="incident_steps")
    op.drop_table("incident_steps")
    op.drop_table("incidents")
