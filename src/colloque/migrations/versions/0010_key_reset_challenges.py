"""email challenges may be for a key reset

A key reset (docs/accounts.md) mails its code through the same table. Its challenge names the
account when the address has one and none otherwise (the answer must not tell them apart), so the
rule tying ``account_id`` to email changes leaves key resets out.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | None = None
depends_on: str | None = None

_OLD_PURPOSES = "purpose IN ('signup', 'email_change')"
_NEW_PURPOSES = "purpose IN ('signup', 'email_change', 'key_reset')"
_OLD_ACCOUNT = "(purpose = 'email_change') = (account_id IS NOT NULL)"
_NEW_ACCOUNT = "purpose = 'key_reset' OR (purpose = 'email_change') = (account_id IS NOT NULL)"


def _replace(purposes: str, account: str) -> None:
    with op.batch_alter_table("email_challenges", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_email_challenges_purpose"), type_="check")
        batch_op.drop_constraint(op.f("ck_email_challenges_account_for_change"), type_="check")
        batch_op.create_check_constraint("purpose", purposes)
        batch_op.create_check_constraint("account_for_change", account)


def upgrade() -> None:
    _replace(_NEW_PURPOSES, _NEW_ACCOUNT)


def downgrade() -> None:
    # Pending resets are worth nothing without the code that went with them.
    op.execute("DELETE FROM email_challenges WHERE purpose = 'key_reset'")
    _replace(_OLD_PURPOSES, _OLD_ACCOUNT)
