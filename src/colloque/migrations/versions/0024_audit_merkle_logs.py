"""audit Merkle logs: leaves per log, the log of heads, signed checkpoints, witness cosignatures

``audit_log_leaves`` places each event in its log (one per practice, one for events without a
practice), ``audit_log_heads`` is the single Merkle log of those logs' heads, and
``audit_checkpoints`` the signed notes over it. The three are append-only: a trigger refuses
UPDATE and DELETE on both databases (docs/audit.md).

Revision ID: 0024
Revises: 0023
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from colloque.storage.types import UTCDateTime

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | None = None
depends_on: str | None = None

_APPEND_ONLY = ("audit_log_leaves", "audit_log_heads", "audit_checkpoints")


def upgrade() -> None:
    op.create_table(
        "audit_log_leaves",
        sa.Column("log_id", sa.Uuid(), nullable=False),
        sa.Column("leaf_index", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("leaf_hash", sa.LargeBinary(length=32), nullable=False),
        sa.CheckConstraint("leaf_index >= 0", name=op.f("ck_audit_log_leaves_index_positive")),
        sa.PrimaryKeyConstraint("log_id", "leaf_index", name=op.f("pk_audit_log_leaves")),
        sa.UniqueConstraint("event_id", name=op.f("uq_audit_log_leaves_event_id")),
    )
    op.create_table(
        "audit_log_heads",
        sa.Column("head_index", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("log_id", sa.Uuid(), nullable=False),
        sa.Column("tree_size", sa.BigInteger(), nullable=False),
        sa.Column("root_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("at", UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "head_index >= 0 AND tree_size > 0", name=op.f("ck_audit_log_heads_sizes_positive")
        ),
        sa.PrimaryKeyConstraint("head_index", name=op.f("pk_audit_log_heads")),
    )
    op.create_index(
        "ix_audit_log_heads_log_size", "audit_log_heads", ["log_id", "tree_size"], unique=True
    )
    op.create_table(
        "audit_checkpoints",
        sa.Column("tree_size", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("root_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("signed_note", sa.Text(), nullable=False),
        sa.Column("signed_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tree_size", name=op.f("pk_audit_checkpoints")),
    )
    op.create_table(
        "audit_cosignatures",
        sa.Column("tree_size", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("witness", sa.String(length=200), nullable=False),
        sa.Column("line", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tree_size", "witness", name=op.f("pk_audit_cosignatures")),
    )
    for table in _APPEND_ONLY:
        if op.get_bind().dialect.name == "postgresql":
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION colloque_refuse_log_change()"
            )
        else:
            for verb in ("UPDATE", "DELETE"):
                op.execute(
                    f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
                )


def downgrade() -> None:
    op.drop_table("audit_cosignatures")
    op.drop_table("audit_checkpoints")
    op.drop_index("ix_audit_log_heads_log_size", table_name="audit_log_heads")
    op.drop_table("audit_log_heads")
    op.drop_table("audit_log_leaves")
