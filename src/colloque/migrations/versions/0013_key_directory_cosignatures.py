"""witness cosignatures of key directory checkpoints

Each row is one witness's cosignature line over the checkpoint of one tree size; the API serves the
largest size with enough of them (COLLOQUE_KEY_DIRECTORY_WITNESS_THRESHOLD).

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import colloque.storage.types

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "key_directory_cosignatures",
        sa.Column("tree_size", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("witness", sa.String(length=200), nullable=False),
        sa.Column("line", sa.Text(), nullable=False),
        sa.Column("created_at", colloque.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tree_size", "witness", name=op.f("pk_key_directory_cosignatures")),
        info={"shard": "global"},
    )


def downgrade() -> None:
    op.drop_table("key_directory_cosignatures")
