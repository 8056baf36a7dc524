"""the account's notification inbox: who received each message

``outbox_messages.recipient_account_id`` (there since 0001, unused) is now written by the worker
when it records a message as sent: the account whose address it went to. An index
``(recipient_account_id, created_at)`` lists an account's messages newest first; on a
distributed database each shard answers from its own part of it (docs/scaling.md).

``account_mail`` gains ``account_id``, the existing account a notice is about (a lockout, a
changed password...), NULL for mail to an address without an account (a sign-up code, an
invitation). It goes with the account (ON DELETE SET NULL), and has the same index.

Revision ID: 0022
Revises: 0021
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.create_index(
            "ix_outbox_recipient", ["recipient_account_id", "created_at"], unique=False
        )
    with op.batch_alter_table("account_mail", schema=None) as batch_op:
        batch_op.add_column(sa.Column("account_id", sa.Uuid(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_account_mail_account_id_accounts"),
            "accounts",
            ["account_id"],
            ["account_id"],
            ondelete="SET NULL",
        )
        batch_op.create_index("ix_account_mail_account", ["account_id", "created_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("account_mail", schema=None) as batch_op:
        batch_op.drop_index("ix_account_mail_account")
        batch_op.drop_constraint(
            batch_op.f("fk_account_mail_account_id_accounts"), type_="foreignkey"
        )
        batch_op.drop_column("account_id")
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_recipient")
