"""Expired OAuth states are deleted as new ones are issued: an index finds them

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-29 15:45:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_oauth_state_expires_at", "oauth_state", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_oauth_state_expires_at", table_name="oauth_state")
