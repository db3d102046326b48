"""Reading an outside party's HTTP answer: the JSON object it carries, or an empty one.

Zoom and Microsoft Graph put the fields that decide what happened (an error code, a message) in a
JSON object; an answer that is not JSON, or not an object, is read as one with no fields, so the
status code alone decides.
"""

from __future__ import annotations

from typing import Any

import httpx


def json_object(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
