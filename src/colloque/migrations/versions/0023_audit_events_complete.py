"""audit events name their credential, request, client and every object; append-only everywhere

``audit_events`` gains the credential (session or token id), the interface, the request id, the
client address's prefix and a salted commitment to the full address, every object named
(``objects``, packed ids), and the outcome (allowed, or denied and why). Rows written before have
``objects`` NULL: they named their main object only.

New tables: ``audit_event_subjects`` (one row per patient an event touched, for access histories),
``audit_client_addresses`` (full addresses, deleted after the retention period) and
``audit_pending`` (events waiting for the sequencer to put them in a Merkle log).

UPDATE and DELETE on ``audit_events`` and ``audit_event_subjects`` are refused by a trigger on
SQLite too now (PostgreSQL has had one on ``audit_events`` since 0001). A later migration that
rebuilds either table on SQLite (``batch_alter_table``) must create the triggers again.

Revision ID: 0023
Revises: 0022
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from colloque.storage.types import UTCDateTime

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | None = None
depends_on: str | None = None

_APPEND_ONLY = ("audit_events", "audit_event_subjects")


def upgrade() -> None:
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("credential_id", sa.Uuid(), nullable=True))
        batch_op.add_column(
            sa.Column("interface", sa.String(length=8), server_default="internal", nullable=False)
        )
        batch_op.add_column(sa.Column("request_id", sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column("client_prefix", sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column("client_commitment", sa.LargeBinary(length=32), nullable=True)
        )
        batch_op.add_column(sa.Column("objects", sa.LargeBinary(), nullable=True))
        batch_op.add_column(
            sa.Column("outcome", sa.String(length=8), server_default="allowed", nullable=False)
        )
        batch_op.add_column(sa.Column("reason", sa.String(length=64), nullable=True))
        batch_op.create_check_constraint("outcome", "outcome IN ('allowed', 'denied')")
        batch_op.create_check_constraint(
            "denied_has_reason", "(outcome = 'denied') = (reason IS NOT NULL)"
        )
        batch_op.create_index("ix_audit_events_actor_at", ["actor_account_id", "at"], unique=False)
        batch_op.create_index(
            "ix_audit_events_credential_at", ["credential_id", "at"], unique=False
        )
        batch_op.create_index(
            "ix_audit_events_client_prefix_at", ["client_prefix", "at"], unique=False
        )
        batch_op.create_index("ix_audit_events_at", ["at"], unique=False)
    op.create_table(
        "audit_event_subjects",
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("subject_id", sa.Uuid(), nullable=False),
        sa.Column("at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("event_id", "subject_id", name=op.f("pk_audit_event_subjects")),
    )
    op.create_index(
        "ix_audit_event_subjects_subject_at", "audit_event_subjects", ["subject_id", "at"]
    )
    op.create_table(
        "audit_client_addresses",
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("salt", sa.LargeBinary(length=16), nullable=False),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_audit_client_addresses")),
    )
    op.create_index("ix_audit_client_addresses_at", "audit_client_addresses", ["at"])
    op.create_index(
        "ix_audit_client_addresses_address", "audit_client_addresses", ["address", "at"]
    )
    op.create_table(
        "audit_pending",
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("log_id", sa.Uuid(), nullable=False),
        sa.Column("queued_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_audit_pending")),
    )
    op.create_index("ix_audit_pending_log_queued", "audit_pending", ["log_id", "queued_at"])
    if op.get_bind().dialect.name == "postgresql":
        # audit_events has had its trigger since 0001; the new table gets the same.
        op.execute(
            "CREATE TRIGGER audit_event_subjects_append_only BEFORE UPDATE OR DELETE"
            " ON audit_event_subjects FOR EACH ROW EXECUTE FUNCTION colloque_refuse_log_change()"
        )
    else:
        for table in _APPEND_ONLY:
            for verb in ("UPDATE", "DELETE"):
                op.execute(
                    f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
                )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "DROP TRIGGER IF EXISTS audit_event_subjects_append_only ON audit_event_subjects"
        )
    else:
        for table in _APPEND_ONLY:
            for verb in ("update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{verb}")
    op.drop_index("ix_audit_pending_log_queued", table_name="audit_pending")
    op.drop_table("audit_pending")
    op.drop_index("ix_audit_client_addresses_address", table_name="audit_client_addresses")
    op.drop_index("ix_audit_client_addresses_at", table_name="audit_client_addresses")
    op.drop_table("audit_client_addresses")
    op.drop_index("ix_audit_event_subjects_subject_at", table_name="audit_event_subjects")
    op.drop_table("audit_event_subjects")
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_events_at")
        batch_op.drop_index("ix_audit_events_client_prefix_at")
        batch_op.drop_index("ix_audit_events_credential_at")
        batch_op.drop_index("ix_audit_events_actor_at")
        batch_op.drop_constraint("denied_has_reason", type_="check")
        batch_op.drop_constraint("outcome", type_="check")
        for column in (
            "reason",
            "outcome",
            "objects",
            "client_commitment",
            "client_prefix",
            "request_id",
            "interface",
            "credential_id",
        ):
            batch_op.drop_column(column)
