"""known devices: the browsers and clients an account signed in from, for the new-device notice

``account_devices`` keeps, per account, the SHA-256 of a random device token (held by the device
in a long-lived cookie), a coarse label of its software, and when it was first and last seen.

Revision ID: 0019
Revises: 0018
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from colloque.storage.types import UTCDateTime

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "account_devices",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("device_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("label", sa.String(length=64), nullable=False),
        sa.Column("first_seen_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.account_id"],
            name=op.f("fk_account_devices_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("account_id", "device_hash", name=op.f("pk_account_devices")),
    )


def downgrade() -> None:
    op.drop_table("account_devices")
