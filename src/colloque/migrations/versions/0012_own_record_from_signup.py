"""an account holder's own patient record is made at sign-up, its birth date may come later

Sign-up now makes the holder's ``self`` patient record in its own transaction. The sign-up may
not say the birth date (it is optional there), so ``patients.birth_date`` may be NULL until the
holder completes their record (``POST /api/v1/me/patients`` with ``relationship: self``).

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("patients", schema=None) as batch_op:
        batch_op.alter_column("birth_date", existing_type=sa.Date(), nullable=True)


def downgrade() -> None:
    missing = op.get_bind().scalar(
        sa.text("SELECT count(*) FROM patients WHERE birth_date IS NULL")
    )
    if missing:
        raise RuntimeError(
            f"{missing} patient records have no birth date yet; the older schema needs one"
        )
    with op.batch_alter_table("patients", schema=None) as batch_op:
        batch_op.alter_column("birth_date", existing_type=sa.Date(), nullable=False)
