"""practice patient registry

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import colloque.storage.types
from colloque.text import search_key

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("patients", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("name_key", sa.String(length=220), server_default="", nullable=False)
        )
    _fill_name_keys()
    op.create_table(
        "practice_patients",
        sa.Column("practice_id", sa.Uuid(), nullable=False),
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.Column("added_at", colloque.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patients.patient_id"],
            name=op.f("fk_practice_patients_patient_id_patients"),
        ),
        sa.ForeignKeyConstraint(
            ["practice_id"],
            ["practices.practice_id"],
            name=op.f("fk_practice_patients_practice_id_practices"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("practice_id", "patient_id", name=op.f("pk_practice_patients")),
        info={"shard": "practice"},
    )
    # Every patient who already has an appointment somewhere is known to that practice.
    op.execute(
        "INSERT INTO practice_patients (practice_id, patient_id, added_at) "
        "SELECT practice_id, patient_id, min(created_at) FROM appointments "
        "GROUP BY practice_id, patient_id"
    )


def _fill_name_keys() -> None:
    connection = op.get_bind()
    patients = sa.table(
        "patients",
        sa.column("patient_id", sa.Uuid()),
        sa.column("first_name", sa.String()),
        sa.column("last_name", sa.String()),
        sa.column("name_key", sa.String()),
    )
    rows = connection.execute(
        sa.select(patients.c.patient_id, patients.c.first_name, patients.c.last_name)
    ).all()
    for patient_id, first_name, last_name in rows:
        connection.execute(
            patients.update()
            .where(patients.c.patient_id == patient_id)
            .values(name_key=search_key(f"{first_name} {last_name}"))
        )


def downgrade() -> None:
    op.drop_table("practice_patients")
    with op.batch_alter_table("patients", schema=None) as batch_op:
        batch_op.drop_column("name_key")
