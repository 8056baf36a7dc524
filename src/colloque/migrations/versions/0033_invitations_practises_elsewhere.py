"""practice invitations for practitioners who already practise at another practice

``practice_invitations`` gains ``practises_elsewhere``: a practitioner invitation that names no
agenda of the practice, for somebody whose account is already a practitioner member of another
practice; accepting it makes their agenda here (docs/accounts.md, "Practice invitations").
``practitioner_linked`` now says a practitioner invitation names an agenda of the practice or
practises elsewhere, one of the two, and that other roles have neither. Existing rows: not
practises elsewhere.

On SQLite the table is rebuilt (``batch_alter_table``); it has no triggers to create again.

Revision ID: 0033
Revises: 0032
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0033"
down_revision: str | None = "0032"
branch_labels: str | None = None
depends_on: str | None = None

_TABLE = "practice_invitations"
_LINKED = "practitioner_linked"
_NEW = (
    "(role = 'practitioner' AND (practitioner_id IS NOT NULL) <> practises_elsewhere)"
    " OR (role <> 'practitioner' AND practitioner_id IS NULL AND NOT practises_elsewhere)"
)
_OLD = "role <> 'practitioner' OR practitioner_id IS NOT NULL"


def upgrade() -> None:
    # The old check let another role carry a practitioner id, which do_invite always refused:
    # cleared should any row have one, so that the stricter check holds for every row.
    op.execute(
        "UPDATE practice_invitations SET practitioner_id = NULL WHERE role <> 'practitioner'"
    )
    with op.batch_alter_table(_TABLE, schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "practises_elsewhere", sa.Boolean(), server_default=sa.false(), nullable=False
            )
        )
        batch_op.drop_constraint(op.f(f"ck_{_TABLE}_{_LINKED}"), type_="check")
        batch_op.create_check_constraint(_LINKED, _NEW)


def downgrade() -> None:
    # Before this revision such an invitation cannot be stated, let alone accepted: it goes (its
    # creation, acceptance or revocation stays in the audit log, and an agenda it made stays).
    op.execute("DELETE FROM practice_invitations WHERE practises_elsewhere")
    with op.batch_alter_table(_TABLE, schema=None) as batch_op:
        batch_op.drop_constraint(op.f(f"ck_{_TABLE}_{_LINKED}"), type_="check")
        batch_op.create_check_constraint(_LINKED, _OLD)
        batch_op.drop_column("practises_elsewhere")
