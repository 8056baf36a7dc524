"""practice key epochs and wraps belong to the practice group or to the practitioners' group

A practice gets a second key group, its practitioners' (notes are sealed to it, docs/crypto.md
5.4): ``practice_key_epochs.clinical`` and ``practice_key_wraps.clinical`` say which group a row is
of, and join both primary keys (and the wraps' foreign key to their epoch). Existing rows are all
of the practice group: false. The downgrade drops the practitioners' groups (their epochs and
wraps): notes sealed to one can then no longer be opened until a practitioner re-keys.

Revision ID: 0017
Revises: 0016
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | None = None
depends_on: str | None = None

_WRAPS_FK = "fk_practice_key_wraps_practice_id_practice_key_epochs"


def _clinical_column() -> sa.Column[bool]:
    return sa.Column("clinical", sa.Boolean(), server_default=sa.false(), nullable=False)


def _rekey(*, epoch_key: list[str], wrap_key: list[str]) -> None:
    """Both primary keys and the wraps' foreign key over ``epoch_key`` (the wraps' key adds the
    account); the foreign key goes first, as it depends on the epochs' primary key."""
    with op.batch_alter_table("practice_key_wraps", schema=None) as batch_op:
        batch_op.drop_constraint(_WRAPS_FK, type_="foreignkey")
    with op.batch_alter_table("practice_key_epochs", schema=None) as batch_op:
        batch_op.drop_constraint("pk_practice_key_epochs", type_="primary")
        batch_op.create_primary_key("pk_practice_key_epochs", epoch_key)
    with op.batch_alter_table("practice_key_wraps", schema=None) as batch_op:
        batch_op.drop_constraint("pk_practice_key_wraps", type_="primary")
        batch_op.create_primary_key("pk_practice_key_wraps", wrap_key)
        batch_op.create_foreign_key(
            _WRAPS_FK,
            "practice_key_epochs",
            epoch_key,
            epoch_key,
            ondelete="CASCADE",
        )


def upgrade() -> None:
    for table in ("practice_key_epochs", "practice_key_wraps"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(_clinical_column())
    _rekey(
        epoch_key=["practice_id", "clinical", "epoch"],
        wrap_key=["practice_id", "clinical", "epoch", "account_id"],
    )


def downgrade() -> None:
    for table in ("practice_key_wraps", "practice_key_epochs"):
        rows = sa.table(table, sa.column("clinical", sa.Boolean()))
        op.execute(rows.delete().where(rows.c.clinical.is_(True)))
    _rekey(epoch_key=["practice_id", "epoch"], wrap_key=["practice_id", "epoch", "account_id"])
    for table in ("practice_key_wraps", "practice_key_epochs"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("clinical")
