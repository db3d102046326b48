"""A booking event's body, validated against its JSON Schema and turned into the core's values.

The schema (`booking-event.v1.json`, beside this module) is the documented contract: the same
file validates every request, the README's examples and the sandbox's events. Each defect gets a
short reason naming the field; a missing required field is a 422 that names them all.
"""

from __future__ import annotations

import functools
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from adapters.edge.strict import BadInput, parse_json_object
from adapters.edge.zones import EARLIEST_YEAR, LATEST_YEAR, bounded_moment, known_zone
from bot.domain import BookingDetails, BookingStatus, CatalogEntry, PaymentState
from bot.domain.booking_events import BookingEvent, BookingEventType

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import ValidationError

SCHEMA_PATH = Path(__file__).with_name("booking-event.v1.json")
MAX_BODY_BYTES = 64 * 1024
MAX_REASON_CHARS = 200
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class InvalidEvent(ValueError):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@functools.cache
def schema() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return loaded


@functools.cache
def _validator() -> Draft202012Validator:
    # Imported on first use: a deployment without a booking webhook never pays for jsonschema.
    from jsonschema import Draft202012Validator

    return Draft202012Validator(schema())


def schema_problems(document: object) -> list[str]:
    """Every way `document` breaks the schema, as short reasons (empty: it is a valid event)."""
    errors = sorted(_validator().iter_errors(document), key=lambda e: list(e.absolute_path))
    missing = [name for error in errors for name in _missing(error)]
    if missing:
        return [f"missing field(s): {', '.join(missing)}"]
    return [_reason(error) for error in errors]


def _where(error: ValidationError) -> str:
    return ".".join(str(part) for part in error.absolute_path) or "the body"


def _missing(error: ValidationError) -> list[str]:
    if error.validator == "required":
        prefix = ".".join(str(part) for part in error.absolute_path)
        name = error.message.split("'")[1] if "'" in error.message else error.message
        return [f"{prefix}.{name}" if prefix else name]
    if error.validator == "anyOf" and list(error.absolute_path) == ["data"]:
        return ["data.sequence (or data.updated_at)"]
    return []


def _reason(error: ValidationError) -> str:
    return f"{_where(error)}: {error.message}"[:MAX_REASON_CHARS]


def parse_event(body: bytes, *, webhook_id: str) -> BookingEvent:
    try:
        document = parse_json_object(body)
    except BadInput as error:
        raise InvalidEvent(400, error.reason) from error
    problems = schema_problems(document)
    if problems:
        raise InvalidEvent(422, problems[0])
    return _event(document, webhook_id)


def _event(document: dict[str, Any], webhook_id: str) -> BookingEvent:
    data = document["data"]
    kind = BookingEventType(document["type"])
    _check_zone(data["time_zone"])
    start, end = _moment(data["start"], "start"), _moment(data["end"], "end")
    if end <= start:
        raise InvalidEvent(422, "data.end must be after data.start")
    service, provider, client = data["service"], data["provider"], data["client"]
    details = BookingDetails(
        external_id=data["booking_id"],
        code=data["booking_id"],
        service_id=service["id"],
        service_name=service["name"],
        provider_id=provider["id"],
        provider_name=provider["name"],
        client_name=client["name"],
        client_email=client.get("email", ""),
        client_phone="",
        start=start,
        end=end,
        status=BookingStatus.CANCELLED
        if kind is BookingEventType.CANCELLED
        else BookingStatus.CONFIRMED,
        payment=PaymentState(data.get("payment", PaymentState.NOT_REQUIRED.value)),
    )
    return BookingEvent(
        webhook_id=webhook_id,
        type=kind,
        sequence=_sequence(data),
        details=details,
        service=CatalogEntry(
            service["id"], service["name"], is_class=bool(service.get("is_class"))
        ),
        provider=CatalogEntry(provider["id"], provider["name"], email=provider.get("email", "")),
        client_language=client.get("language", ""),
        notes=data.get("notes", ""),
        time_zone=data["time_zone"],
    )


def _check_zone(name: str) -> None:
    if known_zone(name) is None:
        raise InvalidEvent(422, "data.time_zone is not an IANA time zone")


def _moment(text: str, name: str) -> datetime:
    moment = bounded_moment(text)
    if moment is None:
        raise InvalidEvent(
            422,
            f"data.{name} is not a valid date and time in the years {EARLIEST_YEAR}-{LATEST_YEAR}",
        )
    return moment


def _sequence(data: dict[str, Any]) -> int:
    if "sequence" in data:
        return int(data["sequence"])
    updated = _moment(data["updated_at"], "updated_at")
    return (updated - _EPOCH) // timedelta(microseconds=1)  # exact: no float in between
