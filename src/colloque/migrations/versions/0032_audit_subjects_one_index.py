"""audit_event_subjects keeps one index: its primary key is (subject_id, at, event_id)

Every audited read inserts one row per patient it names (an agenda week: dozens). Each row was
written to two B-trees, the (event_id, subject_id) primary key and the (subject_id, at) index the
access histories read. The primary key is now the access histories' order itself, so each row is
one index entry; an event names a patient once, so (subject_id, at, event_id) is as unique as the
pair was. ``ix_audit_events_subject`` goes too: nothing looks events up by their main patient
(access histories read this table), and every event paid for it.

On SQLite the table is rebuilt (``batch_alter_table``), which drops its append-only triggers: they
are created again, as 0023 asked of any later rebuild.

Revision ID: 0032
Revises: 0031
"""

from __future__ import annotations

from alembic import op

revision: str = "0032"
down_revision: str | None = "0031"
branch_labels: str | None = None
depends_on: str | None = None

_TABLE = "audit_event_subjects"
_PRIMARY_KEY = "pk_audit_event_subjects"


def upgrade() -> None:
    _rebuild(("subject_id", "at", "event_id"), drop_index=True)
    op.drop_index("ix_audit_events_subject", table_name="audit_events")


def downgrade() -> None:
    op.create_index("ix_audit_events_subject", "audit_events", ["subject_id"])
    _rebuild(("event_id", "subject_id"), drop_index=False)


def _rebuild(primary_key: tuple[str, ...], *, drop_index: bool) -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    if drop_index:
        op.drop_index("ix_audit_event_subjects_subject_at", table_name=_TABLE)
    with op.batch_alter_table(_TABLE, recreate="always" if sqlite else "auto") as batch_op:
        batch_op.drop_constraint(_PRIMARY_KEY, type_="primary")
        batch_op.create_primary_key(_PRIMARY_KEY, list(primary_key))
    if not drop_index:
        op.create_index("ix_audit_event_subjects_subject_at", _TABLE, ["subject_id", "at"])
    if sqlite:
        for verb in ("UPDATE", "DELETE"):
            op.execute(f"DROP TRIGGER IF EXISTS {_TABLE}_no_{verb.lower()}")
            op.execute(
                f"CREATE TRIGGER {_TABLE}_no_{verb.lower()} BEFORE {verb} ON {_TABLE} "
                f"BEGIN SELECT RAISE(ABORT, '{_TABLE} is append-only'); END"
            )
