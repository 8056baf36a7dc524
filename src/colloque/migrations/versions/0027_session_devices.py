"""sessions: what the owner sees of each (software, coarse place) and integration tokens

``access_tokens`` gains ``label`` (the software, as a known device's label), ``place`` (the
network prefix of the address the session was opened from, /24 or /48, as the audit log keeps it)
and ``integration`` (a token issued in-process for an integration, which a staff account's other
issued tokens are not: those end like its login sessions). Existing rows: no label, no place, not
integration tokens.

Revision ID: 0027
Revises: 0026
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0027"
down_revision: str | None = "0026"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("access_tokens", schema=None) as batch_op:
        batch_op.add_column(sa.Column("label", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("place", sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column("integration", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("access_tokens", schema=None) as batch_op:
        batch_op.drop_column("integration")
        batch_op.drop_column("place")
        batch_op.drop_column("label")
