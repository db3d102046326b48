"""Secret tokens as stored: a digest to find the row, a ciphertext to write the link again.

The token itself is never stored in the clear; lookups compare digests in constant time.
"""

from __future__ import annotations

import hashlib
import secrets

from storage.crypto import SecretBox
from storage.secret_columns import secret_context
from storage.tables import MeetingRow, SeatRow


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_link_token() -> str:
    return secrets.token_urlsafe(24)  # 192 bits: unguessable, and says nothing about the meeting


def new_webhook_token() -> str:
    return secrets.token_urlsafe(32)


def seal_link_token(box: SecretBox, *, table: str, column: str, row_id: str) -> tuple[str, str]:
    """A new link token as stored: its digest (to find the row) and its ciphertext (to write the
    link into a message again)."""
    token = new_link_token()
    return token_digest(token), box.encrypt(token, context=secret_context(table, column, row_id))


def host_token(box: SecretBox, row: MeetingRow) -> str:
    context = secret_context("meeting", "host_token_enc", row.id)
    return box.decrypt(row.host_token_enc, context=context)


def client_token(box: SecretBox, seat: SeatRow) -> str:
    return box.decrypt(
        seat.client_token_enc, context=secret_context("seat", "client_token_enc", seat.id)
    )
