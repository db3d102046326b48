"""Key rotation: re-encrypt every secret column with the primary key.

Run after putting a new key first in MEETBOT_SECRET_KEYS (keep the old one after it until this is
done); then the old key can be removed.
"""

from __future__ import annotations

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from sqlmodel import SQLModel

from storage.crypto import SecretBox
from storage.tables import ChatWorkspaceRow, CompanyRow, ZoomAccountRow

SECRET_COLUMNS: dict[type[SQLModel], tuple[str, ...]] = {
    CompanyRow: ("api_key_enc", "api_secret_enc", "webhook_token_enc"),
    ZoomAccountRow: ("access_token_enc", "refresh_token_enc"),
    ChatWorkspaceRow: ("bot_token_enc",),
}


def context_for(table: str, column: str, row_id: str) -> str:
    return f"{table}.{column.removesuffix('_enc')}:{row_id}"


def rotate_secrets(engine: Engine, box: SecretBox) -> int:
    rotated = 0
    with Session(engine) as session, session.begin():
        for model, columns in SECRET_COLUMNS.items():
            table = str(model.__tablename__)
            # Row locks: a token refresh committed meanwhile must not be overwritten by its old value.
            for row in session.scalars(select(model).with_for_update()):
                for column in columns:
                    value = getattr(row, column)
                    if value and box.needs_rotation(value):
                        context = context_for(table, column, row.id)  # type: ignore[attr-defined]
                        setattr(
                            row,
                            column,
                            box.encrypt(box.decrypt(value, context=context), context=context),
                        )
                        rotated += 1
    return rotated
