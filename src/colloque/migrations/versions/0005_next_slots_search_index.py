"""next slots carry specialty and city for the time-ordered search index

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    # The table is a cache: empty it and let the worker rebuild every agenda.
    op.execute("DELETE FROM next_slots")
    op.execute("UPDATE practice_practitioners SET slots_refreshed_at = NULL")
    with op.batch_alter_table("next_slots", schema=None) as batch_op:
        batch_op.add_column(sa.Column("specialty", sa.String(length=40), nullable=False))
        batch_op.add_column(sa.Column("city_key", sa.String(length=100), nullable=False))
        batch_op.create_index(
            "ix_next_slots_specialty_city_start",
            ["specialty", "city_key", "starts_at"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("next_slots", schema=None) as batch_op:
        batch_op.drop_index("ix_next_slots_specialty_city_start")
        batch_op.drop_column("city_key")
        batch_op.drop_column("specialty")
