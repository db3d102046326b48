"""Key rotation: re-encrypt every secret column (see `storage.secret_columns`) with the primary key.

Run after putting a new key first in MEETBOT_SECRET_KEYS (keep the old one after it until this is
done); then the old key can be removed. Rows are done in batches, each committed on its own, so a
run stopped midway keeps what it did and the next run skips the values already on the new key.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, func, select, update

from storage.crypto import SecretBox
from storage.secret_columns import SecretTable, secret_context, secret_tables

BATCH_ROWS = 200


@dataclass(frozen=True)
class RotationProgress:
    table: str
    rows_done: int
    rows_total: int
    values_rotated: int  # in this table so far


def rotate_secrets(
    engine: Engine,
    box: SecretBox,
    *,
    batch_rows: int = BATCH_ROWS,
    on_progress: Callable[[RotationProgress], None] = lambda _: None,
) -> int:
    """Re-encrypts every value not yet on the primary key; returns how many it re-encrypted."""
    return sum(
        _rotate_table(engine, box, secret, batch_rows, on_progress) for secret in secret_tables()
    )


def _rotate_table(
    engine: Engine,
    box: SecretBox,
    secret: SecretTable,
    batch_rows: int,
    on_progress: Callable[[RotationProgress], None],
) -> int:
    with engine.connect() as connection:
        total = int(connection.scalar(select(func.count()).select_from(secret.table)) or 0)
    done = rotated = 0
    after: Any = None
    while True:
        with engine.begin() as connection:
            rows = _batch(connection, secret, after, batch_rows)
            for row in rows:
                rotated += _rotate_row(connection, box, secret, row)
        if not rows:
            break
        after, done = rows[-1][0], done + len(rows)
        on_progress(RotationProgress(secret.name, done, total, rotated))
    if total == 0:
        on_progress(RotationProgress(secret.name, 0, 0, 0))
    return rotated


def _batch(
    connection: Connection, secret: SecretTable, after: Any, batch_rows: int
) -> Sequence[Any]:
    query = select(secret.key, *secret.columns).order_by(secret.key).limit(batch_rows)
    if after is not None:
        query = query.where(secret.key > after)
    # Row locks where the database has them: a token refreshed meanwhile is not overwritten.
    return connection.execute(query.with_for_update()).all()


def _rotate_row(connection: Connection, box: SecretBox, secret: SecretTable, row: Any) -> int:
    key, values = row[0], row[1:]
    rotated = 0
    for column, value in zip(secret.columns, values, strict=True):
        if not value or not box.needs_rotation(value):
            continue
        context = secret_context(secret.name, column.name, key)
        sealed = box.encrypt(box.decrypt(value, context=context), context=context)
        # Only if the value is still the one read: another writer's newer value stands.
        changed = connection.execute(
            update(secret.table)
            .where(secret.key == key, column == value)
            .values({column.name: sealed})
        )
        rotated += changed.rowcount
    return rotated
