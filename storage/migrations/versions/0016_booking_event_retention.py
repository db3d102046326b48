"""An index for pruning a booking's older received events

Revision ID: 0016
Revises: 0013
Create Date: 2026-11-29 21:10:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0016"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_booking_event_booking", "booking_event", ["source_id", "booking_external_id"]
    )


def downgrade() -> None:
    op.drop_index("ix_booking_event_booking", table_name="booking_event")
