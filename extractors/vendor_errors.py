"""Vendor error bodies shaped `{"errors": [{"code", "message" | "detail", ...}]}`.

The shared parser in `http.py` flattens an `errors` value into one message (right for
Shopify REST). SP-API (vendor_api_facts.md §2.5), Square (§5) and Shopify GraphQL (§1.9)
put a machine-readable `code` in each entry; `with_vendor_code` lifts the first one into
`ExtractionError.vendor_code` so the cause reads "QuotaExceeded: You exceeded your quota…".
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import httpx

from extractors.errors import ExtractionError, redact
from extractors.http import attempts_of


def first_error(body: bytes | Any) -> tuple[str | None, str | None]:
    """(code, message) of the first `errors[]` entry, or (None, None)."""
    data = body
    if isinstance(body, bytes | bytearray):
        try:
            data = json.loads(body)
        except ValueError:
            return None, None
    errors = data.get("errors") if isinstance(data, dict) else None
    if not isinstance(errors, list) or not errors or not isinstance(errors[0], dict):
        return None, None
    entry = errors[0]
    code = entry.get("code")
    ext = entry.get("extensions")
    if code is None and isinstance(ext, dict):
        code = ext.get("code")  # GraphQL: errors[].extensions.code (§1.9)
    parts = [entry.get("message") or entry.get("detail")]
    details = entry.get("details")
    if isinstance(details, str) and details:
        parts.append(details)  # SP-API: "Access token is missing in the request header."
    if entry.get("field"):
        parts.append(f"field {entry['field']}")  # Square: the offending request field
    message = " — ".join(str(p) for p in parts if p) or None
    return (None if code is None else str(code)), message


def with_vendor_code(exc: ExtractionError, secrets: Iterable[str] = ()) -> ExtractionError:
    """A copy of `exc` whose vendor code/message come from the body's `errors[]`."""
    if exc.exchange is None:
        return exc
    code, message = first_error(exc.exchange.body)
    if code is None and message is None:
        return exc
    return copy_error(
        exc, vendor_code=code, vendor_message=redact(message, secrets) if message else None
    )


def copy_error(exc: ExtractionError, **changes: Any) -> ExtractionError:
    fields: dict[str, Any] = {
        "method": exc.method, "url": exc.url, "status_code": exc.status_code,
        "vendor_code": exc.vendor_code, "vendor_message": exc.vendor_message,
        "request_id": exc.request_id, "page": exc.page, "attempts": exc.attempts,
        "detail": exc.detail, "exchange": exc.exchange,
    }
    fields.update(changes)
    kind = fields.pop("kind", exc.kind)
    return ExtractionError(exc.system_id, kind, **fields)


def add_attempts(response: httpx.Response, extra: int) -> httpx.Response:
    """Count requests answered without data (THROTTLED, an auth retry, LWA) on the page that
    finally succeeded, so `raw.snapshots.attempts` is every request sent."""
    if extra:
        response.extensions["stockdrift.attempts"] = attempts_of(response) + extra
    return response


__all__ = ["add_attempts", "copy_error", "first_error", "with_vendor_code"]
