"""generic booking sources: signed webhook sources, their events, and the state they left

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-29 20:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TEXT = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table(
        "webhook_source",
        sa.Column("id", _TEXT(), nullable=False),
        sa.Column("company_id", _TEXT(), nullable=False),
        sa.Column("secrets_enc", sa.Text(), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["company_id"], ["company.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("company_id"),
    )
    op.create_table(
        "booking_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("company_id", _TEXT(), nullable=False),
        sa.Column("source_id", _TEXT(), nullable=False),
        sa.Column("webhook_id", _TEXT(), nullable=False),
        sa.Column("booking_external_id", _TEXT(), nullable=False),
        sa.Column("event_type", _TEXT(), nullable=False),
        sa.Column("sequence", sa.BigInteger(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("received_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["company_id"], ["company.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("source_id", "webhook_id"),
    )
    op.create_index("ix_booking_event_company_id", "booking_event", ["company_id"])
    op.create_table(
        "webhook_booking",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("company_id", _TEXT(), nullable=False),
        sa.Column("source_id", _TEXT(), nullable=False),
        sa.Column("booking_external_id", _TEXT(), nullable=False),
        sa.Column("sequence", sa.BigInteger(), nullable=False),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("updated_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["company_id"], ["company.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("source_id", "booking_external_id"),
    )
    op.create_index("ix_webhook_booking_company_id", "webhook_booking", ["company_id"])


def downgrade() -> None:
    op.drop_index("ix_webhook_booking_company_id", table_name="webhook_booking")
    op.drop_table("webhook_booking")
    op.drop_index("ix_booking_event_company_id", table_name="booking_event")
    op.drop_table("booking_event")
    op.drop_table("webhook_source")
