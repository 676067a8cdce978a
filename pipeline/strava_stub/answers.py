"""Strava's answer shapes the stub shares between its endpoints: error bodies, JSON bytes, names."""

from __future__ import annotations

import json
import re
from typing import Any


def error(message: str, resource: str, fld: str, code: str = "invalid") -> dict[str, Any]:
    """Strava's error body."""
    return {"message": message, "errors": [{"resource": resource, "field": fld, "code": code}]}


RATE_LIMIT_BODY = error("Rate Limit Exceeded", "Application", "rate limit", "exceeded")
NOT_FOUND_BODY: dict[str, Any] = {"message": "Record Not Found", "errors": []}
NOT_ALLOWED_BODY: dict[str, Any] = {"message": "Method Not Allowed", "errors": []}
BAD_TOKEN_BODY = error("Authorization Error", "Athlete", "access_token", "invalid")

Answer = tuple[int, Any]


def json_body(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def endpoint_name(method: str, path: str) -> str:
    """The request as a template for stats, e.g. "GET /api/v3/activities/{id}/streams"."""
    return f"{method} " + re.sub(r"/gear/[^/]+", "/gear/{id}", re.sub(r"/\d+(?=/|$)", "/{id}", path))


def client_id_of(params: dict[str, Any]) -> int:
    """The `client_id` parameter as a number (0 when missing or not a number)."""
    try:
        return int(params.get("client_id") or 0)
    except (TypeError, ValueError):
        return 0


def with_query(url: str, query: str) -> str:
    """`url` with `query` appended after `?` or `&`, whichever it needs."""
    return f"{url}{'&' if '?' in url else '?'}{query}"
