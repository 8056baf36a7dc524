"""a revision number on each credential's counters row

``containment_windows`` gains ``revision``, drawn at random by every write of the row. A process
that holds a recent copy of a row writes what an event adds in one statement, on the condition
that the row is still at the copy's revision, instead of reading it for update first
(docs/containment.md, "Cost"). Existing rows start at 0.

Revision ID: 0034
Revises: 0033
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0034"
down_revision: str | None = "0033"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("containment_windows", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("revision", sa.BigInteger(), server_default=sa.text("0"), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("containment_windows", schema=None) as batch_op:
        batch_op.drop_column("revision")
