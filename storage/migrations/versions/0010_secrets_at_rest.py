"""Link tokens kept as digests

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-29 14:15:00

Client and host link tokens move from plain columns to a SHA-256 digest (looked up) and a
ciphertext (to write the link into later message edits), in place: links already posted keep
working. Slack response_urls leave job payloads for the encrypted `job_secret` table.
"""

import hashlib
import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, the old plain column, the new columns' stem)
LINK_TOKENS = (("meeting", "host_token"), ("seat", "client_token"))


def _box() -> Any:
    box = op.get_context().config.attributes.get("secret_box")
    if box is None:
        raise RuntimeError(
            "moving link tokens into encrypted columns needs MEETBOT_SECRET_KEYS: "
            "run `meetbot migrate` (or `meetbot serve`) with the keys set"
        )
    return box


def _context(table: str, column: str, row_id: str) -> str:
    return f"{table}.{column}:{row_id}"  # as storage.secret_columns.secret_context


def _columns(table: str, *names: str) -> sa.TableClause:
    return sa.table(table, *(sa.column(name) for name in names))


def upgrade() -> None:
    for table, column in LINK_TOKENS:
        _to_digest_and_ciphertext(table, column)
    op.create_table(
        "job_secret",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("company_id", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("value_enc", sa.Text(), nullable=False),
        sa.Column("expires_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_job_secret_company_id", "job_secret", ["company_id"], unique=False)
    _drop_response_urls()


def _to_digest_and_ciphertext(table: str, column: str) -> None:
    op.add_column(
        table,
        sa.Column(
            f"{column}_hash",
            sqlmodel.sql.sqltypes.AutoString(),
            nullable=False,
            server_default="",
        ),
    )
    op.add_column(table, sa.Column(f"{column}_enc", sa.Text(), nullable=False, server_default=""))
    rows_of = _columns(table, "id", column, f"{column}_hash", f"{column}_enc")
    connection = op.get_bind()
    rows = connection.execute(sa.select(rows_of.c.id, rows_of.c[column])).all()
    box = _box() if rows else None
    for row_id, token in rows:
        connection.execute(
            sa.update(rows_of)
            .where(rows_of.c.id == row_id)
            .values(
                {
                    f"{column}_hash": hashlib.sha256(token.encode()).hexdigest(),
                    f"{column}_enc": box.encrypt(token, context=_context(table, column, row_id)),
                }
            )
        )
    op.drop_index(f"ix_{table}_{column}", table_name=table)
    with op.batch_alter_table(table, recreate="never") as batch_op:
        batch_op.drop_column(column)
    op.create_index(f"ix_{table}_{column}_hash", table, [f"{column}_hash"], unique=True)


def _drop_response_urls() -> None:
    """A deferred command queued before this version answers in the person's DM instead."""
    job = _columns("job", "id", "payload")
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(job.c.id, job.c.payload).where(job.c.payload.like("%response_url%"))
    ).all()
    for job_id, payload in rows:
        values = json.loads(payload)
        if values.pop("response_url", None) is None:
            continue
        connection.execute(
            sa.update(job)
            .where(job.c.id == job_id)
            .values(payload=json.dumps(values, sort_keys=True))
        )


def downgrade() -> None:
    op.drop_index("ix_job_secret_company_id", table_name="job_secret")
    op.drop_table("job_secret")
    for table, column in LINK_TOKENS:
        _to_plain(table, column)


def _to_plain(table: str, column: str) -> None:
    op.add_column(
        table,
        sa.Column(column, sqlmodel.sql.sqltypes.AutoString(), nullable=False, server_default=""),
    )
    rows_of = _columns(table, "id", column, f"{column}_enc")
    connection = op.get_bind()
    rows = connection.execute(sa.select(rows_of.c.id, rows_of.c[f"{column}_enc"])).all()
    box = _box() if rows else None
    for row_id, sealed in rows:
        token = box.decrypt(sealed, context=_context(table, column, row_id))
        connection.execute(sa.update(rows_of).where(rows_of.c.id == row_id).values({column: token}))
    op.drop_index(f"ix_{table}_{column}_hash", table_name=table)
    with op.batch_alter_table(table, recreate="never") as batch_op:
        batch_op.drop_column(f"{column}_hash")
        batch_op.drop_column(f"{column}_enc")
    op.create_index(f"ix_{table}_{column}", table, [column], unique=True)
