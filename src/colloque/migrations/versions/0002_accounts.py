"""accounts: credentials, key bundles, sessions, MFA, throttles, invitations

Revision ID: 0002
Revises: 0001

``access_tokens`` becomes the sessions table: its new columns have server defaults, so rows written
before (and bulk loads that do not name them) stay valid "issued" tokens.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import colloque.storage.types

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "throttles",
        sa.Column("key", sa.String(length=96), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column(
            "window_started_at", colloque.storage.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("locked_until", colloque.storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("lock_count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_throttles")),
        info={"shard": "global"},
    )
    op.create_table(
        "account_credentials",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("kdf_params", sa.LargeBinary(length=64), nullable=False),
        sa.Column("auth_key_hash", sa.String(length=255), nullable=False),
        sa.Column("recovery_kdf_params", sa.LargeBinary(length=64), nullable=False),
        sa.Column("recovery_auth_key_hash", sa.String(length=255), nullable=False),
        sa.Column(
            "password_changed_at", colloque.storage.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.account_id"],
            name=op.f("fk_account_credentials_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_account_credentials")),
        info={"shard": "global"},
    )
    op.create_table(
        "account_keys",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("epoch", sa.Integer(), nullable=False),
        sa.Column("encryption_public", sa.LargeBinary(length=32), nullable=False),
        sa.Column("signing_public", sa.LargeBinary(length=32), nullable=False),
        sa.Column("sealed_by_password", sa.LargeBinary(length=1024), nullable=False),
        sa.Column("sealed_by_recovery", sa.LargeBinary(length=1024), nullable=False),
        sa.Column("updated_at", colloque.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.account_id"],
            name=op.f("fk_account_keys_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_account_keys")),
        info={"shard": "global"},
    )
    op.create_table(
        "recovery_grants",
        sa.Column("token_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", colloque.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", colloque.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.account_id"],
            name=op.f("fk_recovery_grants_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_recovery_grants")),
        info={"shard": "global"},
    )
    with op.batch_alter_table("recovery_grants", schema=None) as batch_op:
        batch_op.create_index("ix_recovery_grants_account", ["account_id"], unique=False)

    op.create_table(
        "account_totp",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("sealed_secret", sa.LargeBinary(length=255), nullable=False),
        sa.Column("confirmed_at", colloque.storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_used_step", sa.BigInteger(), nullable=True),
        sa.Column("created_at", colloque.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.account_id"],
            name=op.f("fk_account_totp_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_account_totp")),
        info={"shard": "global"},
    )
    op.create_table(
        "email_challenges",
        sa.Column("challenge_id", sa.Uuid(), nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=True),
        sa.Column("code_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", colloque.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", colloque.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("token_hash", sa.LargeBinary(length=32), nullable=True),
        sa.Column("new_account_id", sa.Uuid(), nullable=True),
        sa.CheckConstraint(
            "(purpose = 'email_change') = (account_id IS NOT NULL)",
            name=op.f("ck_email_challenges_account_for_change"),
        ),
        sa.CheckConstraint(
            "purpose IN ('signup', 'email_change')", name=op.f("ck_email_challenges_purpose")
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.account_id"],
            name=op.f("fk_email_challenges_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("challenge_id", name=op.f("pk_email_challenges")),
        info={"shard": "global"},
    )
    with op.batch_alter_table("email_challenges", schema=None) as batch_op:
        batch_op.create_index("ix_email_challenges_token", ["token_hash"], unique=True)

    op.create_table(
        "mfa_recovery_codes",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("code_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("created_at", colloque.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", colloque.storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.account_id"],
            name=op.f("fk_mfa_recovery_codes_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("account_id", "code_hash", name=op.f("pk_mfa_recovery_codes")),
        info={"shard": "global"},
    )
    op.create_table(
        "practice_invitations",
        sa.Column("practice_id", sa.Uuid(), nullable=False),
        sa.Column("invitation_id", sa.Uuid(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("practitioner_id", sa.Uuid(), nullable=True),
        sa.Column("token_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("invited_by_account_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", colloque.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", colloque.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("accepted_at", colloque.storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("accepted_by_account_id", sa.Uuid(), nullable=True),
        sa.Column("revoked_at", colloque.storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "role <> 'practitioner' OR practitioner_id IS NOT NULL",
            name=op.f("ck_practice_invitations_practitioner_linked"),
        ),
        sa.CheckConstraint(
            "role IN ('practitioner', 'secretary', 'admin')",
            name=op.f("ck_practice_invitations_role"),
        ),
        sa.ForeignKeyConstraint(
            ["accepted_by_account_id"],
            ["accounts.account_id"],
            name=op.f("fk_practice_invitations_accepted_by_account_id_accounts"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["invited_by_account_id"],
            ["accounts.account_id"],
            name=op.f("fk_practice_invitations_invited_by_account_id_accounts"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["practice_id", "practitioner_id"],
            ["practice_practitioners.practice_id", "practice_practitioners.practitioner_id"],
            name=op.f("fk_practice_invitations_practice_id_practice_practitioners"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["practice_id"],
            ["practices.practice_id"],
            name=op.f("fk_practice_invitations_practice_id_practices"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "practice_id", "invitation_id", name=op.f("pk_practice_invitations")
        ),
        info={"shard": "practice"},
    )
    with op.batch_alter_table("practice_invitations", schema=None) as batch_op:
        batch_op.create_index(
            "ix_practice_invitations_token", ["practice_id", "token_hash"], unique=True
        )

    with op.batch_alter_table("access_tokens", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("kind", sa.String(length=8), server_default="issued", nullable=False)
        )
        batch_op.add_column(sa.Column("csrf_hash", sa.LargeBinary(length=32), nullable=True))
        batch_op.add_column(
            sa.Column("mfa_verified", sa.Boolean(), server_default=sa.true(), nullable=False)
        )
        batch_op.add_column(
            sa.Column(
                "last_seen_at", colloque.storage.types.UTCDateTime(timezone=True), nullable=True
            )
        )
        batch_op.add_column(
            sa.Column("reauth_at", colloque.storage.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.create_check_constraint(
            op.f("ck_access_tokens_kind"), "kind IN ('issued', 'cookie', 'bearer')"
        )
        batch_op.create_check_constraint(
            "csrf_for_cookies", "(kind = 'cookie') = (csrf_hash IS NOT NULL)"
        )


def downgrade() -> None:
    with op.batch_alter_table("access_tokens", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_access_tokens_csrf_for_cookies"), type_="check")
        batch_op.drop_constraint(op.f("ck_access_tokens_kind"), type_="check")
        batch_op.drop_column("reauth_at")
        batch_op.drop_column("last_seen_at")
        batch_op.drop_column("mfa_verified")
        batch_op.drop_column("csrf_hash")
        batch_op.drop_column("kind")

    with op.batch_alter_table("practice_invitations", schema=None) as batch_op:
        batch_op.drop_index("ix_practice_invitations_token")

    op.drop_table("practice_invitations")
    op.drop_table("mfa_recovery_codes")
    with op.batch_alter_table("email_challenges", schema=None) as batch_op:
        batch_op.drop_index("ix_email_challenges_token")

    op.drop_table("email_challenges")
    op.drop_table("account_totp")
    with op.batch_alter_table("recovery_grants", schema=None) as batch_op:
        batch_op.drop_index("ix_recovery_grants_account")

    op.drop_table("recovery_grants")
    op.drop_table("account_keys")
    op.drop_table("account_credentials")
    op.drop_table("throttles")
