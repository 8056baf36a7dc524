"""key directory append-only; practice key epochs carry rotation-due

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | None = None
depends_on: str | None = None

_LOG_TABLES = ("key_directory_leaves", "key_directory_checkpoints")


def upgrade() -> None:
    with op.batch_alter_table("practice_key_epochs", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("rotation_due", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    if op.get_bind().dialect.name == "postgresql":
        # The key directory is append-only, like the audit log: the database itself refuses.
        op.execute(
            "CREATE FUNCTION colloque_refuse_log_change() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END $$"
        )
        for table in _LOG_TABLES:
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION colloque_refuse_log_change()"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in _LOG_TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
        op.execute("DROP FUNCTION IF EXISTS colloque_refuse_log_change()")
    with op.batch_alter_table("practice_key_epochs", schema=None) as batch_op:
        batch_op.drop_column("rotation_due")
