"""the outbox is delivered: delivery state on outbox_messages, account mail in its own table

``outbox_messages`` gains the patient a message is about (the recipient is found from it at
delivery, never stored), the appointment event it announces, when it is due, the lease of the
worker that claimed it, when it went out and the last error's category. Rows queued before this
revision are due at once: the worker finds their patient from their appointment.

``account_mail`` holds account notices (sign-up codes, resets, lock notices...), which belong to
no practice: a global table keyed by its own id, its content sealed under a server key
(docs/notifications.md). ``accounts.language`` is the language mail is written in (fr or en).

Revision ID: 0018
Revises: 0016
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from colloque.storage.types import UTCDateTime

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("patient_id", sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column("event_id", sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column("due_at", UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("leased_until", UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("sent_at", UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("last_error", sa.String(length=48), nullable=True))
        batch_op.create_index("ix_outbox_due", ["status", "due_at"], unique=False)
    op.execute("UPDATE outbox_messages SET due_at = created_at WHERE due_at IS NULL")
    op.create_table(
        "account_mail",
        sa.Column("mail_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=48), nullable=False),
        sa.Column("sealed", sa.LargeBinary(), nullable=True),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("due_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("leased_until", UTCDateTime(timezone=True), nullable=True),
        sa.Column("sent_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=48), nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'sent', 'failed')", name=op.f("ck_account_mail_status")
        ),
        sa.PrimaryKeyConstraint("mail_id", name=op.f("pk_account_mail")),
    )
    op.create_index("ix_account_mail_due", "account_mail", ["status", "due_at"], unique=False)
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("language", sa.String(length=2), server_default="fr", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_column("language")
    op.drop_index("ix_account_mail_due", table_name="account_mail")
    op.drop_table("account_mail")
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_due")
        batch_op.drop_column("last_error")
        batch_op.drop_column("sent_at")
        batch_op.drop_column("leased_until")
        batch_op.drop_column("due_at")
        batch_op.drop_column("event_id")
        batch_op.drop_column("patient_id")
