"""A generic source's bookings in their own id space, an index for pruning older events, and
a company's zone that waits for its first booking event

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-29 21:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# A booking a generic source sent is keyed `wh:<source id>:<its id>` from now on, apart from
# SimplyBook.me's bookings of the same company; its hash column names the source.
_SOURCE_PREFIX = "webhook-source:"
_INTO_NAMESPACE = sa.text(
    "UPDATE booking SET external_id = 'wh:' || substr(booking_hash, :start) || ':' || external_id "
    "WHERE booking_hash LIKE :pattern AND external_id NOT LIKE 'wh:%'"
)
_OUT_OF_NAMESPACE = sa.text(
    "UPDATE booking SET external_id = substr(external_id, length(booking_hash) - :drop) "
    "WHERE booking_hash LIKE :pattern AND external_id LIKE 'wh:%'"
)


def upgrade() -> None:
    op.add_column(
        "company",
        sa.Column("zone_pending", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    # Started by `connect webhook` and still in the start's UTC: the next event names the zone.
    op.execute(
        sa.text(
            "UPDATE company SET zone_pending = true "
            "WHERE simplybook_login LIKE :generic AND timezone = 'UTC'"
        ).bindparams(generic="(generic webhook) %")
    )
    op.execute(
        _INTO_NAMESPACE.bindparams(start=len(_SOURCE_PREFIX) + 1, pattern=_SOURCE_PREFIX + "%")
    )
    op.create_index(
        "ix_booking_event_booking", "booking_event", ["source_id", "booking_external_id"]
    )


def downgrade() -> None:
    op.drop_column("company", "zone_pending")
    op.drop_index("ix_booking_event_booking", table_name="booking_event")
    # "wh:<source id>:" is 11 characters shorter than "webhook-source:<source id>"
    op.execute(
        _OUT_OF_NAMESPACE.bindparams(drop=len(_SOURCE_PREFIX) - 5, pattern=_SOURCE_PREFIX + "%")
    )
