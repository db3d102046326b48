"""Microsoft accounts, Teams conversations, message templates, group classes

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24 22:33:30.814954
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "message_template",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("company_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("scope", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("scope_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("updated_by", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("updated_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["company.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("company_id", "kind", "scope", "scope_id"),
    )
    with op.batch_alter_table("message_template", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_message_template_company_id"), ["company_id"], unique=False
        )

    op.create_table(
        "ms_account",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("company_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("provider_external_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("tenant_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("object_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("username", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("display_name", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("home_account_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("token_cache_enc", sa.Text(), nullable=False),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("state_reason", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("connected_by", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("updated_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["company.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("company_id", "provider_external_id"),
    )
    with op.batch_alter_table("ms_account", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ms_account_company_id"), ["company_id"], unique=False)

    op.create_table(
        "teams_conversation",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("company_id", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("tenant_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("conversation_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("conversation_type", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("team_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("channel_name", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("user_aad_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("service_url", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("reference", sa.Text(), nullable=False),
        sa.Column("updated_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["company.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("conversation_id"),
    )
    with op.batch_alter_table("teams_conversation", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_teams_conversation_company_id"), ["company_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_teams_conversation_tenant_id"), ["tenant_id"], unique=False
        )

    with op.batch_alter_table("meeting", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("class_key", sqlmodel.sql.sqltypes.AutoString(), nullable=True)
        )
        batch_op.create_index("ux_meeting_class_key", ["class_key"], unique=True)

    with op.batch_alter_table("oauth_state", schema=None) as batch_op:
        batch_op.add_column(sa.Column("payload_enc", sa.Text(), nullable=False, server_default=""))

    with op.batch_alter_table("seat", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("registrant_id", sqlmodel.sql.sqltypes.AutoString(), nullable=True)
        )
        batch_op.add_column(
            sa.Column("join_url", sqlmodel.sql.sqltypes.AutoString(), nullable=True)
        )
        batch_op.add_column(
            sa.Column("cancelled_at", storage.types.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("oauth_state", schema=None) as batch_op:
        batch_op.drop_column("payload_enc")

    with op.batch_alter_table("seat", schema=None) as batch_op:
        batch_op.drop_column("cancelled_at")
        batch_op.drop_column("join_url")
        batch_op.drop_column("registrant_id")

    with op.batch_alter_table("meeting", schema=None) as batch_op:
        batch_op.drop_index("ux_meeting_class_key")
        batch_op.drop_column("class_key")

    with op.batch_alter_table("teams_conversation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_teams_conversation_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_teams_conversation_company_id"))

    op.drop_table("teams_conversation")
    with op.batch_alter_table("ms_account", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ms_account_company_id"))

    op.drop_table("ms_account")
    with op.batch_alter_table("message_template", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_message_template_company_id"))

    op.drop_table("message_template")
