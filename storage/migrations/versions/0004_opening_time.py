"""opening time

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 21:30:58.866981
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("company", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("open_minutes_before", sa.Integer(), nullable=False, server_default="10")
        )

    with op.batch_alter_table("meeting", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("opened_at", storage.types.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("meeting", schema=None) as batch_op:
        batch_op.drop_column("opened_at")

    with op.batch_alter_table("company", schema=None) as batch_op:
        batch_op.drop_column("open_minutes_before")
