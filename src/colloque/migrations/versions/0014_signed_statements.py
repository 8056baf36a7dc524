"""key directory leaves may be signed statements (endorsements, memberships, group epochs)

Statements (docs/crypto.md, section 5.12) are log leaves like key bindings, up to 174 bytes, with
no public key of their own: ``leaf`` grows and ``public_key`` may be NULL. Their ``purpose`` is
their type byte (0x0A, 0x0B, 0x0C) and ``epoch`` holds the epoch or sequence they are for, so the
unique index on (subject kind, subject, purpose, epoch) still allows one statement per epoch.
Append-only stays as it was (migration 0007): altering a column is not an UPDATE of a row.
``practice_key_epochs.members`` keeps, for a practice that signs its memberships, the members an
epoch was wrapped for (the set its group epoch statement's digest covers), for clients to check.

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("practice_key_epochs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("members", sa.LargeBinary(), nullable=True))
    with op.batch_alter_table("key_directory_leaves", schema=None) as batch_op:
        batch_op.alter_column(
            "leaf", existing_type=sa.LargeBinary(length=64), type_=sa.LargeBinary(length=256)
        )
        batch_op.alter_column("public_key", existing_type=sa.LargeBinary(length=32), nullable=True)


def downgrade() -> None:
    statements = op.get_bind().scalar(
        sa.text("SELECT count(*) FROM key_directory_leaves WHERE public_key IS NULL")
    )
    if statements:
        # A log cannot drop leaves: the checkpoints already signed commit to them.
        raise RuntimeError(f"the key directory holds {statements} signed statements")
    with op.batch_alter_table("key_directory_leaves", schema=None) as batch_op:
        batch_op.alter_column("public_key", existing_type=sa.LargeBinary(length=32), nullable=False)
        batch_op.alter_column(
            "leaf", existing_type=sa.LargeBinary(length=256), type_=sa.LargeBinary(length=64)
        )
    with op.batch_alter_table("practice_key_epochs", schema=None) as batch_op:
        batch_op.drop_column("members")
