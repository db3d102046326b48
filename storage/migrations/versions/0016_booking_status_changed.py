"""Whether a booking's latest save changed its status or payment, set and returned by the save

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-30 02:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A constant default: PostgreSQL and SQLite add the column without rewriting the table.
    op.add_column(
        "booking",
        sa.Column("status_changed", sa.Boolean(), nullable=False, server_default=sa.false()),
    )


def downgrade() -> None:
    op.drop_column("booking", "status_changed")
