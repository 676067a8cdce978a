"""What a Strava webhook event is: the pydantic model, and the checks a POST body passes first.

Strava POSTs a flat JSON object of ids (no activity data). `parse_body` refuses what is not
UTF-8 JSON before decoding it (size, nesting depth, encoding); `parse_event` then validates
the object against `WebhookEvent` in strict mode (an id is a JSON integer, never a string,
float or boolean) and turns pydantic's errors into one short message for the 400.
"""

from __future__ import annotations

import hashlib
import json
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_core import ErrorDetails, PydanticCustomError

MAX_BODY_BYTES = 64 * 1024
MAX_DEPTH = 32  # nesting of arrays/objects in a body; Strava's events have 2

OBJECT_TYPES = frozenset({"activity", "athlete"})
ASPECT_TYPES = frozenset({"create", "update", "delete"})
_INT_FIELDS = ("object_id", "owner_id", "subscription_id", "event_time")
_REQUIRED = ("object_type", "aspect_type", *_INT_FIELDS)


class EventError(ValueError):
    """An event the receiver must refuse, with the HTTP status to answer."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _encodable(text: str) -> str:
    """JSON may spell lone surrogates (\\ud800); they cannot be stored or sent on as UTF-8."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise PydanticCustomError("lone_surrogate", "text is not valid Unicode") from None
    return text


Text = Annotated[str, AfterValidator(_encodable)]
# DuckDB stores ids as BIGINT; Strava's are positive.
Id = Annotated[int, Field(ge=0, lt=2**63)]
# Strava's `updates` is a flat map of field name to new value (title, type, private, authorized).
PlainValue = Text | int | float | bool | None


class WebhookEvent(BaseModel):
    """One Strava push event, as validated by the receiver."""

    model_config = ConfigDict(frozen=True, strict=True, allow_inf_nan=False, extra="ignore")

    object_type: Literal["activity", "athlete"]
    object_id: Id
    aspect_type: Literal["create", "update", "delete"]
    owner_id: Id
    subscription_id: Id
    event_time: Id  # epoch seconds
    updates: dict[Text, PlainValue] = Field(default_factory=dict)

    @field_validator("updates", mode="before")
    @classmethod
    def _absent_updates_are_empty(cls, value: Any) -> Any:
        return value or {}  # Strava leaves `updates` out, or sends {} (null, [] and "" mean none too)

    @property
    def dedupe_key(self) -> str:
        """Same event delivered twice -> same key (Strava retries; ids are not unique per delivery)."""
        canonical = json.dumps(
            [self.object_type, self.object_id, self.aspect_type, self.event_time, self.updates],
            sort_keys=True,
            separators=(",", ":"),
        )
        return hashlib.sha256(canonical.encode()).hexdigest()

    @property
    def is_deauthorization(self) -> bool:
        return self.object_type == "athlete" and str(self.updates.get("authorized", "")).lower() == "false"

    def to_json(self) -> dict[str, Any]:
        return self.model_dump()


def parse_event(raw: Any) -> WebhookEvent:
    """Check an event's shape; raise EventError(400) naming what is wrong."""
    if not isinstance(raw, dict):
        raise EventError(400, "event must be a JSON object")
    try:
        return WebhookEvent.model_validate(raw)
    except ValidationError as err:
        raise EventError(400, _first_problem(err.errors())) from None


def _first_problem(errors: list[ErrorDetails]) -> str:
    """One message for the 400, checked in a fixed order: missing fields, ids, types, updates."""
    missing = {e["loc"][0] for e in errors if e["type"] == "missing"}
    if missing:
        return f"missing fields: {', '.join(f for f in _REQUIRED if f in missing)}"
    wrong = {e["loc"][0] for e in errors}
    for name in _INT_FIELDS:
        if name in wrong:
            return f"{name} must be a non-negative 64-bit integer"
    if "object_type" in wrong:
        return "object_type must be activity or athlete"
    if "aspect_type" in wrong:
        return "aspect_type must be create, update or delete"
    return _updates_problem([e for e in errors if e["loc"][0] == "updates"])


def _updates_problem(errors: list[ErrorDetails]) -> str:
    """The message for the first bad entry of `updates` (its key, or its value: several union members fail)."""
    if any(len(e["loc"]) == 1 for e in errors):
        return "updates must be an object"
    first_key = errors[0]["loc"][1]
    value_errors = [e for e in errors if e["loc"][1] == first_key and e["loc"][-1] != "[key]"]
    kinds = {e["type"] for e in value_errors}
    if "finite_number" in kinds:  # a float, but NaN or infinite
        return "updates must not hold NaN or infinite numbers"
    if value_errors and "lone_surrogate" not in kinds:
        return "updates must map field names to plain values (strings, numbers, booleans)"
    return "updates must be valid Unicode text (no lone surrogates)"


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _nesting_depth(body: bytes) -> int:
    """How deep arrays and objects nest, counted outside strings (bytes are scanned once, no recursion)."""
    depth = deepest = 0
    in_string = escaped = False
    for byte in body:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):  # [ {
            depth += 1
            deepest = max(deepest, depth)
        elif byte in (0x5D, 0x7D):  # ] }
            depth -= 1
    return deepest


def parse_body(body: bytes) -> WebhookEvent:
    """Parse a POST body into an event, or raise EventError with the 4xx to answer.

    413 over 64 KB; 400 when it is not UTF-8 JSON (NaN and Infinity included), nests deeper
    than MAX_DEPTH (a Strava event is two levels deep; Python's decoder would otherwise hit
    its recursion limit), holds a number too long to convert, or is not a well-formed event.
    """
    if len(body) > MAX_BODY_BYTES:
        raise EventError(413, f"body over {MAX_BODY_BYTES} bytes")
    if body.count(b"[") + body.count(b"{") > MAX_DEPTH and _nesting_depth(body) > MAX_DEPTH:
        raise EventError(400, f"body nests deeper than {MAX_DEPTH} levels")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise EventError(400, "body is not UTF-8") from None
    try:
        raw = json.loads(text, parse_constant=_no_constant)
    except (ValueError, RecursionError):  # JSONDecodeError, NaN/Infinity, ints over 4,300 digits
        raise EventError(400, "body is not valid JSON") from None
    return parse_event(raw)


def unsupported_content_type(header: str | None) -> str | None:
    """Why a Content-Type cannot hold an event (415), or None. A missing header is accepted.

    JSON is `application/json` (or `+json`) in UTF-8; Strava sends `application/json`.
    """
    if header is None or header.strip() == "":
        return None
    media, _, params = header.partition(";")
    media = media.strip().lower()
    if media != "application/json" and not (media.startswith("application/") and media.endswith("+json")):
        return "content-type must be application/json"
    for param in params.split(";"):
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset" and value.strip().strip('"').lower() not in ("utf-8", "utf8"):
            return "events must be UTF-8 JSON"
    return None
