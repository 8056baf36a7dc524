"""account credentials say when the recovery code was made and when it last opened a recovery

The account page shows the recovery code's status, and the code can be renewed without using it
(docs/accounts.md). ``recovery_created_at`` is filled for existing rows from the audit log: the
last sign-up, recovery or key reset of the account is when its current code was made (nothing
else replaced a code before this revision); an account without such an event falls back to its
creation. ``recovery_used_at`` starts empty: starting a recovery was not recorded before.

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from colloque.storage.types import UTCDateTime

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | None = None
depends_on: str | None = None

_BACKFILL = """
UPDATE account_credentials SET recovery_created_at = COALESCE(
    (SELECT max(audit_events.at) FROM audit_events
      WHERE audit_events.object_id = account_credentials.account_id
        AND audit_events.action IN (
            'accounts:account:create', 'accounts:password:recover', 'accounts:keys:reset')),
    (SELECT accounts.created_at FROM accounts
      WHERE accounts.account_id = account_credentials.account_id))
"""


def upgrade() -> None:
    with op.batch_alter_table("account_credentials", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("recovery_created_at", UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("recovery_used_at", UTCDateTime(timezone=True), nullable=True)
        )
    op.execute(_BACKFILL)
    with op.batch_alter_table("account_credentials", schema=None) as batch_op:
        batch_op.alter_column(
            "recovery_created_at", existing_type=UTCDateTime(timezone=True), nullable=False
        )


def downgrade() -> None:
    with op.batch_alter_table("account_credentials", schema=None) as batch_op:
        batch_op.drop_column("recovery_used_at")
        batch_op.drop_column("recovery_created_at")
