"""Edge guards: Slack requests already seen

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29 14:15:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "seen_request",
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("expires_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_index("ix_seen_request_expires_at", "seen_request", ["expires_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_seen_request_expires_at", table_name="seen_request")
    op.drop_table("seen_request")
