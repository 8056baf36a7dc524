"""a revision per search cell

``search_cells`` holds a revision per (specialty, city key) cell of search, bumped by every change
to what a search of the cell may show other than a booking: an agenda's cached slots rebuilt, an
agenda added, its definition or its practice's settings changed. Each web process keeps the first
page of a cell's searches with the revision it was built at, and serves it again only while the
revision is the same and every slot it shows is still cached (docs/architecture.md, "Kept search
answers"). A cell without a row is at revision 0, so the table starts empty.

Revision ID: 0035
Revises: 0034
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0035"
down_revision: str | None = "0034"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "search_cells",
        sa.Column("specialty", sa.String(length=40), nullable=False),
        sa.Column("city_key", sa.String(length=100), nullable=False),
        sa.Column("revision", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("specialty", "city_key", name=op.f("pk_search_cells")),
        info={"shard": "global"},
    )


def downgrade() -> None:
    op.drop_table("search_cells")
