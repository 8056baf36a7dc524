"""throttles name client addresses by a keyed hash

Throttle keys of client addresses (``login:ip:...``, ``codes:ip:...``) held the address in clear;
they now hold a keyed hash of it (``AccountsConfig.client_key``), as probing counters do. The
column is unchanged. The rows keyed by a clear address are deleted: they are counters of an hour
or so, and the new keys would never meet them again.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | None = None
depends_on: str | None = None

_ADDRESS_ROWS = "DELETE FROM throttles WHERE key LIKE 'login:ip:%' OR key LIKE 'codes:ip:%'"


def upgrade() -> None:
    op.execute(_ADDRESS_ROWS)


def downgrade() -> None:
    # The hashed keys mean nothing to the older code; drop them the same way.
    op.execute(_ADDRESS_ROWS)
