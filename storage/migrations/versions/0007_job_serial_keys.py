"""Jobs that write one shared message hold its serialisation key

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29 14:15:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_RUNNING_HOLDER = "state = 'running' AND serial_key IS NOT NULL"


def upgrade() -> None:
    with op.batch_alter_table("job", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("serial_key", sqlmodel.sql.sqltypes.AutoString(), nullable=True)
        )
    op.create_index(
        "ux_job_running_serial",
        "job",
        ["serial_key"],
        unique=True,
        sqlite_where=sa.text(_RUNNING_HOLDER),
        postgresql_where=sa.text(_RUNNING_HOLDER),
    )


def downgrade() -> None:
    op.drop_index("ux_job_running_serial", table_name="job")
    with op.batch_alter_table("job", schema=None) as batch_op:
        batch_op.drop_column("serial_key")
