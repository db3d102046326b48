"""Standard Webhooks signatures, verified by the `standardwebhooks` library against each of a
source's secrets (several while one is being rotated).

The library trusts what it is given: a signature without its "v1," or with broken base64 raises
plain ValueErrors, and it decodes the body as UTF-8 itself. Everything here ends in `BadSignature`
with a short reason instead, so a malformed header is a 4xx, never a 5xx.
"""

from __future__ import annotations

import binascii
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

MAX_WEBHOOK_ID_CHARS = 200
MAX_SIGNATURE_CHARS = 2000
TOLERANCE_MINUTES = 5  # the library's tolerance for webhook-timestamp, either way


class BadSignature(ValueError):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def signed_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """The three Standard Webhooks headers, checked for shape before any secret is tried."""
    found = {name: headers.get(name, "") for name in _HEADERS}
    missing = [name for name, value in found.items() if not value]
    if missing:
        raise BadSignature(400, f"missing header(s): {', '.join(missing)}")
    if len(found["webhook-id"]) > MAX_WEBHOOK_ID_CHARS or not found["webhook-id"].isprintable():
        raise BadSignature(
            400, f"webhook-id must be printable, at most {MAX_WEBHOOK_ID_CHARS} characters"
        )
    if not found["webhook-timestamp"].isdigit() or len(found["webhook-timestamp"]) > 12:
        raise BadSignature(400, "webhook-timestamp must be whole seconds since 1970")
    if len(found["webhook-signature"]) > MAX_SIGNATURE_CHARS:
        raise BadSignature(400, "webhook-signature is too long")
    return found


_HEADERS = ("webhook-id", "webhook-timestamp", "webhook-signature")


def verify(body: str, headers: Mapping[str, str], secrets: Sequence[str]) -> str:
    """Returns the `webhook-id` of a body signed with one of `secrets`."""
    # Imported on first use: a deployment without a booking webhook never pays for it.
    from standardwebhooks.webhooks import Webhook, WebhookVerificationError

    found = signed_headers(headers)
    for secret in secrets:
        try:
            Webhook(secret).verify(body, found, json_parse=False)
        except WebhookVerificationError as refused:
            if "timestamp" in str(refused):
                raise BadSignature(
                    401, f"webhook-timestamp is more than {TOLERANCE_MINUTES} minutes off"
                ) from refused
            continue
        except (ValueError, binascii.Error):  # a malformed signature list
            raise BadSignature(
                400, "webhook-signature is not a list of v1,<base64> signatures"
            ) from None
        return found["webhook-id"]
    raise BadSignature(401, "no signature matches this source's secrets")


def sign(body: str, *, secret: str, webhook_id: str, timestamp: int) -> dict[str, str]:
    """The headers a sender adds (for examples and tests of this format)."""
    from standardwebhooks.webhooks import Webhook

    signature = Webhook(secret).sign(webhook_id, datetime.fromtimestamp(timestamp, UTC), body)
    return {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature,
    }
