"""the mass-change breaker: who caused an outbox message, held messages, and pauses

``outbox_messages`` gains who caused a message (``caused_by``, an account id; NULL for the system
and for every row queued before this revision), whether a practice admin approved it with the
count shown (``approved``), the pause that holds or held it (``pause_id``), and the ``held``
status. ``outbox_pauses`` is the breaker's record per practice (and per account in it): when it
tripped, when its admins were alerted, who released or discarded it (docs/notifications.md).

Revision ID: 0020
Revises: 0019
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from colloque.storage.types import UTCDateTime

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | None = None
depends_on: str | None = None

_OPEN = sa.text("status = 'open'")


def upgrade() -> None:
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("caused_by", sa.Uuid(), nullable=True))
        batch_op.add_column(
            sa.Column("approved", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(sa.Column("pause_id", sa.Uuid(), nullable=True))
        batch_op.drop_constraint(op.f("ck_outbox_messages_status"), type_="check")
        batch_op.create_check_constraint(
            "status", "status IN ('pending', 'held', 'sent', 'failed')"
        )
        batch_op.create_index(
            "ix_outbox_practice_created", ["practice_id", "created_at"], unique=False
        )
        batch_op.create_index("ix_outbox_caused_by", ["caused_by", "created_at"], unique=False)
        batch_op.create_index("ix_outbox_pause", ["practice_id", "pause_id"], unique=False)
    op.create_table(
        "outbox_pauses",
        sa.Column("practice_id", sa.Uuid(), nullable=False),
        sa.Column("pause_id", sa.Uuid(), nullable=False),
        sa.Column("principal_account_id", sa.Uuid(), nullable=True),
        sa.Column("scope_key", sa.String(length=36), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("tripped_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("alerted_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("resolved_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("resolved_by", sa.Uuid(), nullable=True),
        sa.Column("resolved_count", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "status IN ('open', 'released', 'discarded')", name=op.f("ck_outbox_pauses_status")
        ),
        sa.PrimaryKeyConstraint("practice_id", "pause_id", name=op.f("pk_outbox_pauses")),
    )
    op.create_index(
        "ix_outbox_pauses_open",
        "outbox_pauses",
        ["practice_id", "scope_key"],
        unique=True,
        sqlite_where=_OPEN,
        postgresql_where=_OPEN,
    )


def downgrade() -> None:
    op.drop_index(
        "ix_outbox_pauses_open",
        table_name="outbox_pauses",
        sqlite_where=_OPEN,
        postgresql_where=_OPEN,
    )
    op.drop_table("outbox_pauses")
    # Held messages were never sent: they go back to waiting, as before the breaker existed.
    op.execute("UPDATE outbox_messages SET status = 'pending' WHERE status = 'held'")
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_pause")
        batch_op.drop_index("ix_outbox_caused_by")
        batch_op.drop_index("ix_outbox_practice_created")
        batch_op.drop_constraint(op.f("ck_outbox_messages_status"), type_="check")
        batch_op.create_check_constraint("status", "status IN ('pending', 'sent', 'failed')")
        batch_op.drop_column("pause_id")
        batch_op.drop_column("approved")
        batch_op.drop_column("caused_by")
